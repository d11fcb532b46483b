#!/usr/bin/python3
"""Draws the cumulative click rate curves of `streamrec simulate --csv` runs into one PNG
(one curve per CSV, labelled by its `label` column: the server's policy unless the run
set --label), with the oracle's and a random ranking's expected click rates of the first
run as dashed lines; --table prints the final figures as a Markdown table instead (no
matplotlib needed).

  streamrec --server localhost:50061 simulate --seed 2 --rounds 6000 --csv greedy.csv
  streamrec --server localhost:50062 simulate --seed 2 --rounds 6000 --csv epsilon.csv
  scripts/plot_simulation.py greedy.csv epsilon.csv --output simulation.png
  scripts/plot_simulation.py --table greedy.csv epsilon.csv

The PNG needs matplotlib: on Debian `apt-get install python3-matplotlib`, then run this
with /usr/bin/python3.
"""
import argparse
import csv
import sys


def read_run(path):
    """The rows of one --csv file as dicts with numbers converted; exits on a file that is
    not a simulate CSV."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        sys.exit(f"plot_simulation: cannot read {path}: {e.strerror}")
    needed = {"label", "policy", "seed", "round", "impressions", "clicks", "click_rate",
              "oracle_click_rate", "random_click_rate"}
    if not rows or not needed <= set(rows[0]):
        sys.exit(f"plot_simulation: {path} is not a `streamrec simulate --csv` file "
                 f"(needs the columns {', '.join(sorted(needed))} and one row at least)")
    for row in rows:
        for key, value in row.items():
            if key not in ("label", "policy"):
                row[key] = float(value)
    return rows


def table(runs):
    lines = ["| run | policy | seed | rounds | impressions | clicks | click rate | "
             "new items shown | oracle | random |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for path, rows in runs:
        last = rows[-1]
        shown = (f"{int(last['new_items_shown'])}/{int(last['new_items_arrived'])}"
                 if "new_items_shown" in last else "-")
        lines.append(f"| {last['label']} | {last['policy']} | {int(last['seed'])} | "
                     f"{int(last['round'])} | {int(last['impressions'])} | "
                     f"{int(last['clicks'])} | {last['click_rate']:.4f} | {shown} | "
                     f"{last['oracle_click_rate']:.4f} | {last['random_click_rate']:.4f} |")
    return "\n".join(lines)


def plot(runs, output, title):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("plot_simulation: matplotlib is not installed: on Debian run "
                 "`apt-get install python3-matplotlib` and use /usr/bin/python3 "
                 "(or use --table for the figures without a plot)")
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    for path, rows in runs:
        ax.plot([r["round"] for r in rows], [r["click_rate"] for r in rows],
                label=rows[-1]["label"], linewidth=2)
    first = runs[0][1]
    rounds = [r["round"] for r in first]
    ax.plot(rounds, [r["oracle_click_rate"] for r in first], "k--", linewidth=1,
            label="oracle (expected)")
    ax.plot(rounds, [r["random_click_rate"] for r in first], "k:", linewidth=1,
            label="random ranking (expected)")
    ax.set_xlabel("round")
    ax.set_ylabel("cumulative click rate (clicks per shown item)")
    ax.set_title(title or f"streamrec simulate, seed {int(first[-1]['seed'])}")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(output)
    print(f"wrote {output}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", nargs="+", help="`streamrec simulate --csv` files")
    parser.add_argument("--output", default="simulation.png", help="the PNG to write")
    parser.add_argument("--title", default="", help="the plot's title")
    parser.add_argument("--table", action="store_true",
                        help="print the final figures as a Markdown table, draw nothing")
    args = parser.parse_args()
    runs = [(path, read_run(path)) for path in args.csv]
    if args.table:
        print(table(runs))
        return
    plot(runs, args.output, args.title)
    print(table(runs))


if __name__ == "__main__":
    main()
