#!/usr/bin/python3
"""Reference runs for the README's "Learning quality" table: the same streams, the same
protocol (one pass, each event scored before it is learned), through textbook
implementations outside streamrec, so every comparison in the table can be rerun.

    build/bin/model_quality --dump DIR default      # writes DIR/STREAM.txt
    /usr/bin/python3 bench/reference_quality.py DIR [--models ftrl,torch-dnn] [--events N]

Models:
  ftrl       FTRL-Proximal logistic regression (McMahan et al. 2013, Algorithm 1) with the
             settings of the widely copied Kaggle script: alpha 0.1, beta 1, L1 1, L2 1,
             2^20 hashed rows, per event. Pure Python on NumPy arrays.
  torch-dnn  PyTorch (Debian's python3-torch) with the layers of streamrec's default dnn
             config: one embedding bag (mean) per field of 8 dimensions over 2^20 hashed
             rows, concatenated -> Dense 256 ReLU -> Dropout 0.5 -> Dense 128 ReLU ->
             Dropout 0.5 -> Dense 1, binary cross-entropy, Adam lr 0.001, mini-batches of
             256, each batch scored before it is learned; one thread
             (torch.set_num_threads(1)).
Prints one line per (stream, model): logloss, AUC, NE against the running click rate
(clicks + 1) / (events + 2), events/s.
"""
import argparse
import math
import os
import sys
import time

import numpy as np

ROWS = 1 << 20


def read_stream(path, limit):
    labels, events = [], []
    with open(path) as f:
        for line in f:
            parts = line.split()
            labels.append(float(parts[0]))
            feats = []
            for p in parts[1:]:
                r, v, field = p.split(":")
                feats.append((int(r), float(v), int(field)))
            events.append(feats)
            if limit and len(labels) >= limit:
                break
    return np.array(labels), events


def logloss(p, y):
    p = min(max(p, 1e-15), 1 - 1e-15)
    return -math.log(p) if y >= 0.5 else -math.log(1 - p)


def auc(scores, labels):
    order = np.argsort(scores, kind="mergesort")
    s, y = np.asarray(scores)[order], np.asarray(labels)[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[i:j + 1] = (i + j) / 2 + 1
        i = j + 1
    pos = y >= 0.5
    n_pos, n_neg = pos.sum(), (~pos).sum()
    if n_pos == 0 or n_neg == 0:
        return 0.5
    return (ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def running_rate_loss(labels):
    loss, clicks = 0.0, 0.0
    for i, y in enumerate(labels):
        loss += logloss((clicks + 1) / (i + 2), y)
        clicks += y
    return loss / len(labels)


def ftrl(labels, events, alpha=0.1, beta=1.0, l1=1.0, l2=1.0):
    z = np.zeros(ROWS + 1)
    n = np.zeros(ROWS + 1)
    preds = []
    for y, feats in zip(labels, events):
        idx = [r for r, _, _ in feats] + [ROWS]  # the last row is the bias
        xs = [v for _, v, _ in feats] + [1.0]
        ws = []
        for i in idx:
            zi = z[i]
            if abs(zi) <= l1:
                ws.append(0.0)
            else:
                ws.append(-(zi - math.copysign(l1, zi)) / ((beta + math.sqrt(n[i])) / alpha + l2))
        logit = sum(w * x for w, x in zip(ws, xs))
        p = 1.0 / (1.0 + math.exp(-max(min(logit, 35.0), -35.0)))
        preds.append(p)
        g0 = p - y
        for i, w, x in zip(idx, ws, xs):
            g = g0 * x
            sigma = (math.sqrt(n[i] + g * g) - math.sqrt(n[i])) / alpha
            z[i] += g - sigma * w
            n[i] += g * g
    return preds


def torch_dnn(labels, events, batch=256, dim=8, seed=1):
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    fields = 1 + max(f for feats in events for _, _, f in feats)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.EmbeddingBag(ROWS, dim, mode="sum")
            torch.nn.init.uniform_(self.emb.weight, -0.05, 0.05)
            self.mlp = torch.nn.Sequential(
                torch.nn.Linear(fields * dim, 256), torch.nn.ReLU(), torch.nn.Dropout(0.5),
                torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Dropout(0.5),
                torch.nn.Linear(128, 1))

        def forward(self, rows, values, bags, count):
            # One bag per (event, field): mean over the field's features, weighted by value.
            flat = self.emb(rows, bags, per_sample_weights=values)
            flat = flat / count.unsqueeze(1)
            return self.mlp(flat.view(-1, fields * dim)).squeeze(1)

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=0.001)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    preds = []
    for start in range(0, len(labels), batch):
        rows, values, offsets, counts = [], [], [], []
        for feats in events[start:start + batch]:
            per_field = [[] for _ in range(fields)]
            for r, v, f in feats:
                per_field[f].append((r, v))
            for group in per_field:
                offsets.append(len(rows))
                counts.append(max(1, len(group)))
                for r, v in group:
                    rows.append(r)
                    values.append(v)
        rows = torch.tensor(rows, dtype=torch.long)
        values = torch.tensor(values, dtype=torch.float32)
        offsets = torch.tensor(offsets, dtype=torch.long)
        counts = torch.tensor(counts, dtype=torch.float32)
        y = torch.tensor(labels[start:start + batch], dtype=torch.float32)
        net.eval()
        with torch.no_grad():
            preds.extend(torch.sigmoid(net(rows, values, offsets, counts)).tolist())
        net.train()
        opt.zero_grad()
        loss_fn(net(rows, values, offsets, counts), y).backward()
        opt.step()
    return preds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--models", default="ftrl")
    ap.add_argument("--events", type=int, default=0)
    args = ap.parse_args()
    runners = {"ftrl": ftrl, "torch-dnn": torch_dnn}
    print(f"{'stream':<11} {'model':<22} {'logloss':>8} {'AUC':>7} {'NE':>6} {'events/s':>10}")
    for name in ("movielens", "criteo", "criteo-raw", "criteo-5"):
        path = os.path.join(args.dir, name + ".txt")
        if not os.path.exists(path):
            continue
        labels, events = read_stream(path, args.events)
        base = running_rate_loss(labels)
        for model in args.models.split(","):
            start = time.perf_counter()
            preds = runners[model](labels, events)
            seconds = time.perf_counter() - start
            loss = sum(logloss(p, y) for p, y in zip(preds, labels)) / len(labels)
            print(f"{name:<11} {'ref ' + model:<22} {loss:8.4f} {auc(preds, labels):7.4f} "
                  f"{loss / base:6.3f} {len(labels) / seconds:10.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
