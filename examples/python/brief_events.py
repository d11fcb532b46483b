#!/usr/bin/python3
"""Events for the product brief's deep click model (examples/models/dnn_brief.textproto):
JSON lines with a 128-dim vector field "x" (Gaussian), an item id, and a click label from
a fixed teacher, sigmoid(2 tanh(a.x) + (b.x)(c.x) - 0.5) with unit vectors a, b, c, so the
model has something to learn (the same kind of stream as build/bin/dnn_speed's, not the
same draws). Standard library only.

    /usr/bin/python3 examples/python/brief_events.py 51200 > brief.jsonl
    streamrec replay brief.jsonl                     # into a server running dnn_brief
    streamrec predict "x=[0.1,-0.3,...128 numbers...]" --item i1   # a vector value

Arguments: EVENTS [SEED] (default seed 1).
"""
import json
import math
import random
import signal
import sys

DIM = 128


def unit(rng):
    v = [rng.gauss(0, 1) for _ in range(DIM)]
    norm = math.sqrt(sum(x * x for x in v))
    return [x / norm for x in v]


def main():
    if len(sys.argv) < 2 or not sys.argv[1].isdigit():
        sys.exit(__doc__)
    events = int(sys.argv[1])
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    a, b, c = unit(rng), unit(rng), unit(rng)
    out = sys.stdout
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends it quietly
    for i in range(events):
        x = [rng.gauss(0, 1) for _ in range(DIM)]
        dot = lambda w: sum(p * q for p, q in zip(w, x))  # noqa: E731
        t = 2 * math.tanh(dot(a)) + dot(b) * dot(c) - 0.5
        label = 1 if rng.random() < 1 / (1 + math.exp(-t)) else 0
        out.write(json.dumps({
            "context": {"values": {"x": {"vector": {"values": [round(v, 5) for v in x]}}}},
            "item": {"id": f"i{i % 100}"},
            "label": label}) + "\n")


if __name__ == "__main__":
    main()
