#!/usr/bin/python3
"""Converts MovieLens latest-small to streamrec JSON lines, in timestamp order.

Usage: bench/movielens_to_jsonl.py [DATA_DIR] > movielens.jsonl
DATA_DIR defaults to ../shared/data/movielens-latest-small. A rating of 4 or more is a
click (label 1), below 4 a shown-but-not-clicked item (label 0). Features: context
user; item id = movie id, item features genres (multi-valued) and user_x_genre (the
user crossed with each genre). Then:
  build/bin/streamrec replay movielens.jsonl
"""
import csv
import json
import os
import sys

data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "data", "movielens-latest-small")
genres = {}
with open(os.path.join(data, "movies.csv"), newline="", encoding="utf-8") as f:
    for row in csv.reader(f):
        if row and row[0] != "movieId":
            genres[row[0]] = row[2].split("|")
ratings = []
with open(os.path.join(data, "ratings.csv"), newline="") as f:
    for row in csv.reader(f):
        if row and row[0] != "userId":
            ratings.append((int(row[3]), row[0], row[1], float(row[2])))
ratings.sort(key=lambda r: r[0])  # stable: ties keep file order
out = sys.stdout
for ts, user, movie, rating in ratings:
    g = genres.get(movie, [])
    event = {
        "context": {"values": {"user": {"category": user}}},
        "item": {"id": movie, "features": {"values": {
            "genres": {"categories": {"values": g}},
            "user_x_genre": {"categories": {"values": [f"{user}|{x}" for x in g]}}}}},
        "label": 1 if rating >= 4 else 0,
        "time_unix_ms": ts * 1000,
    }
    out.write(json.dumps(event, separators=(",", ":")) + "\n")
