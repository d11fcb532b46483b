#!/usr/bin/python3
"""PyTorch reference for the speed of the brief's DNN (README "Speed"), on the same events
and with the same protocol as build/bin/dnn_speed's "brief" line:

  128 floats -> Dense 256 ReLU -> Dropout 0.5 -> Dense 128 ReLU -> Dropout 0.5 -> Dense 1
  sigmoid, binary cross-entropy (mean over the batch), Adam lr 0.001, mini-batches of 256,
  progressive: each batch is scored in eval mode (no dropout) with the parameters before
  it, then trained (one forward with dropout, backward, Adam step). One thread: torch's
  intra- and inter-op pools and OpenBLAS (OPENBLAS_NUM_THREADS=1, set before torch loads).

The events come from `build/bin/dnn_speed --only brief --dump FILE` (per event float32
label then 128 float32 x). Timing covers the training loop only (the events are one
tensor in memory before it starts), as dnn_speed times only its Train loop.

    build/bin/dnn_speed 51200 --only brief --dump /tmp/brief.bin
    /usr/bin/python3 bench/dnn_speed_torch.py /tmp/brief.bin

With --dnn_speed BIN it runs both itself, back to back, --repeat times (default 3), and
prints each pair's ratio (the machine is shared: compare ratios, not absolute figures):

    /usr/bin/python3 bench/dnn_speed_torch.py --dnn_speed build/bin/dnn_speed [--events 51200]

--seeds K (default 1) then trains PyTorch K more times on the same events, with torch
seeds 1..K (its initial weights and dropout masks), and prints the spread of its
progressive logloss: one seed's logloss says little about "equal or better" when the
seeds alone move it by 0.01 (streamrec's draws are fixed by its hash seeds, so it is one
sample of the same spread).
"""
import argparse
import math
import os
import re
import subprocess
import sys
import tempfile
import time

DIM = 128
BATCH = 256

# One thread everywhere: these must be set before torch (and its BLAS) is loaded.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"


def load_torch():
    try:
        import torch
    except ImportError as e:
        sys.exit(f"dnn_speed_torch.py: PyTorch is not available ({e}); on Debian install "
                 "python3-torch and run this with /usr/bin/python3")
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    return torch


def run_torch(torch, path, seed=1):
    import numpy as np
    raw = np.fromfile(path, dtype="<f4")
    if raw.size == 0 or raw.size % (DIM + 1) != 0:
        sys.exit(f"dnn_speed_torch.py: {path} is not a dnn_speed --dump file")
    raw = torch.from_numpy(raw.reshape(-1, DIM + 1).copy())
    labels, xs = raw[:, 0].contiguous(), raw[:, 1:].contiguous()
    events = labels.numel()
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(DIM, 256), torch.nn.ReLU(), torch.nn.Dropout(0.5),
        torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Dropout(0.5),
        torch.nn.Linear(128, 1))
    # Glorot-uniform weights and zero biases, as streamrec starts (Keras' defaults).
    for m in net:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(m.weight)
            torch.nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(net.parameters(), lr=0.001)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    loss_sum = 0.0
    start = time.perf_counter()
    for b in range(0, events, BATCH):
        x, y = xs[b:b + BATCH], labels[b:b + BATCH]
        net.eval()
        with torch.no_grad():
            # Progressive logloss of the batch, before it trains (summed, clamped like
            # streamrec's LogLoss: p in [1e-15, 1 - 1e-15]).
            p = torch.sigmoid(net(x).squeeze(1).double()).clamp(1e-15, 1 - 1e-15)
            loss_sum += float(-(y * p.log() + (1 - y) * (1 - p).log()).sum())
        net.train()
        opt.zero_grad()
        loss_fn(net(x).squeeze(1), y).backward()
        opt.step()
    seconds = time.perf_counter() - start
    return events / seconds, loss_sum / events


def run_ours(binary, events, path):
    out = subprocess.run([binary, str(events), "--only", "brief", "--dump", path],
                         check=True, capture_output=True, text=True).stdout
    m = re.search(r"^brief\s+(\d+) events/s train\s+progressive logloss ([0-9.]+)", out, re.M)
    if not m:
        sys.exit(f"dnn_speed_torch.py: unexpected output from {binary}:\n{out}")
    return float(m.group(1)), float(m.group(2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file", nargs="?", help="a dnn_speed --dump file")
    ap.add_argument("--dnn_speed", help="run this dnn_speed binary too, back to back")
    ap.add_argument("--events", type=int, default=51200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seeds", type=int, default=1)
    args = ap.parse_args()
    if bool(args.file) == bool(args.dnn_speed):
        ap.error("give either a dump file or --dnn_speed BIN")
    torch = load_torch()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread", flush=True)
    if args.file:
        eps, loss = run_torch(torch, args.file)
        print(f"torch      {eps:8.0f} events/s train   progressive logloss {loss:.4f}")
        return 0
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "brief.bin")
        for r in range(args.repeat):
            ours, our_loss = run_ours(args.dnn_speed, args.events, path)
            theirs, their_loss = run_torch(torch, path)
            ratios.append(ours / theirs)
            print(f"run {r + 1}: streamrec {ours:8.0f} events/s (logloss {our_loss:.4f})   "
                  f"torch {theirs:8.0f} events/s (logloss {their_loss:.4f})   "
                  f"ratio {ours / theirs:.2f}", flush=True)
            if r == 0 and args.seeds > 1:
                losses = [run_torch(torch, path, seed)[1] for seed in range(1, args.seeds + 1)]
    ratios.sort()
    print(f"ratio median {ratios[len(ratios) // 2]:.2f} (min {ratios[0]:.2f}, "
          f"max {ratios[-1]:.2f}) over {len(ratios)} back-to-back pairs")
    if args.seeds > 1:
        mean = sum(losses) / len(losses)
        worse = sum(1 for l in losses if l >= our_loss)
        print(f"torch progressive logloss over seeds 1-{args.seeds}: mean {mean:.4f} "
              f"(min {min(losses):.4f}, max {max(losses):.4f}); streamrec {our_loss:.4f}, "
              f"at or below {worse} of the {args.seeds} seeds' logloss")
    return 0


if __name__ == "__main__":
    sys.exit(main())
