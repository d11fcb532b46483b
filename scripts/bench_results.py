#!/usr/bin/env python3
"""Assembles scripts/bench's results: reads RUNS (one tab-separated line per run: name,
durability, command, result file: the JSON of `streamrec bench --output`, or a
micro-benchmark's text output) and writes OUT_JSON (every result, whole) and OUT_MD (a
Markdown table: target, measured, baseline, ratio, command; then the micro-benchmarks'
own output). A result that is missing or does not parse is reported in the table as
such, never guessed.

Usage: bench_results.py RUNS OUT_JSON OUT_MD MODE
"""
import datetime
import json
import os
import re
import subprocess
import sys


def git_revision():
    try:
        return subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def n(x, digits=0):
    return f"{x:,.{digits}f}" if isinstance(x, (int, float)) else "-"


def ratio(a, b):
    return f"{a / b:.2f}" if isinstance(a, (int, float)) and b else "-"


def load(runs_path):
    runs = {}
    with open(runs_path) as f:
        for line in f:
            name, durability, command, path = line.rstrip("\n").split("\t")
            run = {"durability": durability or None, "command": command}
            try:
                with open(path) as r:
                    text = r.read()
                if path.endswith(".json"):
                    run["result"] = json.loads(text)
                else:
                    run["output"] = text
            except (OSError, ValueError) as e:
                run["error"] = str(e)
            runs[name] = run
    return runs


def cli_rows(runs):
    rows = []
    r = runs.get("predict", {}).get("result")
    if r:
        p = r["predict"]
        shape = (f"{r['candidates']} candidates x {r['candidate_features']} + "
                 f"{r['context_features']} context, {r['concurrency']} in flight")
        noop = r.get("noop")
        rows.append((f"Predict QPS ({shape})", f"{n(p['qps'])}/s (p50 {n(p['p50_us'])} us, "
                     f"p99 {n(p['p99_us'])} us)",
                     f"no-op Echo, same sizes: {n(noop['qps'])}/s" if noop else "(no baseline)",
                     n(r["ratio"], 2) if r.get("ratio") else "-", runs["predict"]["command"]))
    for mode in ("stream", "unary"):
        base = runs.get(f"observe-{mode}-none", {}).get("result")
        for durability in ("none", "async", "sync"):
            run = runs.get(f"observe-{mode}-{durability}", {})
            r = run.get("result")
            if not r:
                continue
            rows.append((f"Observe {mode}, --durability={durability} ({r['batch']} x "
                         f"{r['features']}-feature events, {r['concurrency']} in flight)",
                         f"{n(r['acked_per_s'])} acked/s, {n(r['applied_per_s'])} applied/s",
                         "none (baseline)" if durability == "none" or not base else
                         f"none: {n(base['acked_per_s'])} acked/s",
                         ratio(r["acked_per_s"], base["acked_per_s"]) if base else "-",
                         run["command"]))
    for name, busy in (("mixed", "training"), ("swap", "swapping")):
        r = runs.get(name, {}).get("result")
        if not r:
            continue
        what = ("training at" if name == "mixed" else
                "publishing and persisting (SaveSnapshot every "
                f"{r.get('save_interval_s', 1):g} s),")
        for q in ("p50", "p99"):
            rows.append((f"Predict {q} while {what} {n(r['observe']['events_per_s'])} "
                         "Observe events/s", f"{n(r[busy][q + '_us'])} us",
                         f"idle: {n(r['idle'][q + '_us'])} us", n(r[q + "_ratio"], 2),
                         runs[name]["command"]))
    r = runs.get("freshness", {}).get("result")
    if r:
        bg = r.get("background") or {}
        rows.append((f"Freshness: Observe ack -> Predict reflects it ({r['reflected']}/"
                     f"{r['probes']} probes, background {n(bg.get('events_per_s'))} events/s)",
                     f"p50 {n(r['p50_ms'], 2)} ms, p99 {n(r['p99_ms'], 2)} ms", "-", "-",
                     runs["freshness"]["command"]))
    return rows


def micro_rows(runs):
    rows = []
    run = runs.get("predict_latency_bench", {})
    out = run.get("output", "")
    idle = re.search(r"^updater idle \(baseline\)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", out, re.M)
    busy = re.search(r"^training \+ publishing.*?\s([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+\d+$", out,
                     re.M)
    if idle and busy:
        rows.append(("In-process Predict p99 (100 candidates), updater training + publishing",
                     f"{busy.group(2)} us", f"idle: {idle.group(2)} us",
                     ratio(float(busy.group(2)), float(idle.group(2))), run["command"]))
    run = runs.get("observe_bench", {})
    out = run.get("output", "")
    for m in re.finditer(r"^(none|async|sync)\s+(\d+)\s+([\d.]+)\s+(\d+)\s+(\d+)$", out, re.M):
        rows.append((f"In-process Observe stream (3-feature events), --durability={m.group(1)}",
                     f"{n(int(m.group(2)))} events/s; unary p99 {m.group(5)} us",
                     "none (baseline)" if m.group(1) == "none" else "none", m.group(3),
                     run["command"]))
    run = runs.get("persist_bench", {})
    out = run.get("output", "")
    full = re.search(r"^all \(baseline\)\s+([\d.]+)\s+([\d.]+)", out, re.M)
    one = re.search(r"^1\s+([\d.]+)\s+([\d.]+)\s+\d+\s+([\d.]+)", out, re.M)
    if full and one:
        rows.append(("Persist a snapshot after 1 changed row (capture + write)",
                     f"{float(one.group(1)) + float(one.group(2)):.1f} ms",
                     f"every row: {float(full.group(1)) + float(full.group(2)):.1f} ms",
                     one.group(3), run["command"]))
    run = runs.get("publish_bench", {})
    try:
        bench = {b["name"]: b for b in json.loads(run.get("output", ""))["benchmarks"]}
        base = bench["BM_FullCopyBaseline"]
        for rows_changed in ("1", "1000"):
            b = bench[f"BM_PublishChangedRows/{rows_changed}"]
            rows.append((f"Publish after {rows_changed} changed rows (2^20-row model)",
                         f"{b['real_time']:.1f} {b['time_unit']}",
                         f"full copy: {base['real_time']:.1f} {base['time_unit']}",
                         ratio(b["real_time"], base["real_time"]), run["command"]))
    except (ValueError, KeyError, TypeError):
        pass
    return rows


def main():
    runs_path, out_json, out_md, mode = sys.argv[1:5]
    runs = load(runs_path)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    load1 = os.getloadavg()[0]
    meta = {"generated": now, "mode": mode, "git_revision": git_revision(),
            "cpus": os.cpu_count(), "load_average_1m": round(load1, 2)}
    with open(out_json, "w") as f:
        json.dump({**meta, "runs": runs}, f, indent=1)
        f.write("\n")
    lines = [f"# scripts/bench results ({mode})", "",
             f"{now}, git {meta['git_revision']}, {meta['cpus']} CPUs (load average "
             f"{load1:.1f} at the end: the cores are shared, so is the noise). Server and "
             "load generator on the same machine, over loopback; every server on a fresh "
             "data dir with `--bench_service --metrics_listen=`.", "",
             "| target | measured | baseline | ratio | command |", "|---|---|---|---|---|"]
    for row in cli_rows(runs) + micro_rows(runs):
        lines.append("| " + " | ".join(row[:4]) + f" | `{row[4]}` |")
    failed = [name for name, run in runs.items() if "error" in run]
    if failed:
        lines += ["", "No result (see the run's output): " + ", ".join(failed)]
    lines += ["", "Micro-benchmarks' own output:"]
    for name in ("predict_latency_bench", "observe_bench", "persist_bench"):
        if "output" in runs.get(name, {}):
            lines += ["", f"`{runs[name]['command']}`", "", "```",
                      runs[name]["output"].rstrip(), "```"]
    with open(out_md, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
