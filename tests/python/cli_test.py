#!/usr/bin/python3
"""The streamrec CLI against a real server process.

Usage: cli_test.py SERVER_BINARY CLI_BINARY
Checks each command's readable and JSON output, replay of both formats with exact
acknowledged counts, malformed-line handling, exit codes, and that
`generate | replay -` reaches a progressive logloss near the generator's optimum.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_harness  # noqa: E402
from server_log import admin_flags  # noqa: E402

SERVER, CLI = sys.argv[1], sys.argv[2]


def fresh_server():
    """A server of its own on a fresh data dir (cli_harness.fresh_server)."""
    return cli_harness.fresh_server(SERVER)


class CliTest(cli_harness.CliServerCase):
    SERVER, CLI = SERVER, CLI

    def test_health(self):
        r = self.cli("health")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"streamrec.v1.Recommender\s+SERVING")
        r = self.cli("--json", "health")
        self.assertEqual(json.loads(r.stdout),
                         {"server": "SERVING", "streamrec.v1.Recommender": "SERVING",
                          "streamrec.v1.Ingest": "SERVING"})

    def test_predict_and_observe(self):
        r = self.cli("predict", "user=u1", "age=31", "--item", "A", "--item", "B,genre=drama|war")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"model_version \d+\s+prediction_id \S+")
        self.assertRegex(r.stdout, r"1\s+A\s+0\.\d+\s+0")
        r = self.cli("--json", "predict", "user=u1", "--item", "A", "--item", "B", "--top_k", "1")
        out = json.loads(r.stdout)
        self.assertEqual(len(out["items"]), 1)
        self.assertIn("prediction_id", out)
        r = self.cli("observe", "user=u1", "--item", "A", "--label", "1")
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "accepted 1 event"))
        r = self.cli("--json", "observe", "--request",
                     '{"events":[{"item":{"id":"A"},"label":1},{"item":{"id":"B"},"label":0}]}')
        self.assertEqual(json.loads(r.stdout), {"accepted": "2", "duplicates": "0",
                                                "rewards_joined": "0", "rewards_dropped": "0"})
        # A retry of events with ids is acknowledged and said to be a duplicate.
        req = '{"events":[{"item":{"id":"A"},"label":1,"event_id":"cli-dup-1"}]}'
        self.assertEqual(self.cli("observe", "--request", req).stdout.strip(), "accepted 1 event")
        self.assertEqual(self.cli("observe", "--request", req).stdout.strip(),
                         "accepted 1 event (1 event already seen: a duplicate event_id, "
                         "not trained again)")
        r = self.cli("--json", "predict", "--request",
                     '{"context":{"values":{"user":{"category":"u1"}}},"candidates":[{"id":"A"}]}')
        self.assertEqual(json.loads(r.stdout)["items"][0]["id"], "A")

    def test_info_and_stats(self):
        r = self.cli("info")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("FTRL-Proximal", r.stdout)
        self.assertEqual(json.loads(self.cli("--json", "info").stdout)["config"]["hash_bits"], 20)
        r = self.cli("stats")
        self.assertRegex(r.stdout, r"overall\s+events \d+\s+(logloss|no events scored yet)")
        stats = json.loads(self.cli("--json", "stats").stdout)
        self.assertIn("progressive_window", stats)
        r = self.cli("--json", "stats", "--watch", "--count", "2")
        self.assertEqual(len(r.stdout.strip().splitlines()), 2)

    def test_undefined_metrics_read_na_not_zero(self):
        # A fresh server that has seen only non-clicks: NE, AUC and calibration are
        # undefined (the API carries 0); the text says n/a and why, never "NE 0.0000".
        with fresh_server() as addr:
            empty = self.cli("stats", server=addr)
            self.assertIn("no events scored yet", empty.stdout)
            for _ in range(3):
                r = self.cli("observe", "user=u1", "--item", "A", "--label", "0",
                             server=addr)
                self.assertEqual(r.returncode, 0, r.stderr)
            for _ in range(100):
                if json.loads(self.cli("--json", "stats", server=addr).stdout).get(
                        "events_applied") == "3":
                    break
                time.sleep(0.05)
            r = self.cli("stats", server=addr)
            self.assertRegex(r.stdout, r"overall\s+events 3\s+logloss [0-9.]+  AUC n/a  "
                             r"NE n/a  calibration n/a  accuracy [0-9.]+ \(every label")
            self.assertNotIn("NE 0.0000", r.stdout)

    def test_exit_codes(self):
        self.assertEqual(self.cli("frobnicate").returncode, 2)
        self.assertEqual(self.cli("predict", "user=u1").returncode, 2)   # no --item
        self.assertEqual(self.cli("stats", "--bogus", "1").returncode, 2)
        down = self.cli("health", server="127.0.0.1:1")
        self.assertEqual(down.returncode, 3)
        self.assertIn("cannot reach the server", down.stderr)
        late = self.cli("--timeout", "0.000001", "stats")
        self.assertEqual(late.returncode, 3)
        self.assertIn("before the deadline", late.stderr)
        bad = self.cli("observe", "--item", "A", "--label", "7")
        self.assertEqual(bad.returncode, 4)
        self.assertIn("events[0].label", bad.stderr)
        self.assertEqual(self.cli("replay", self.path("missing.jsonl")).returncode, 5)

    def stats(self):
        return json.loads(self.cli("--json", "stats").stdout)

    def test_replay_jsonl_exact_counts_and_report(self):
        gen = self.cli("generate", "--n", "1234", "--seed", "3", "--output", self.path("g.jsonl"))
        self.assertEqual(gen.returncode, 0, gen.stderr)
        before = int(self.stats()["events_accepted"])
        report = self.path("report.json")
        r = self.cli("--json", "replay", self.path("g.jsonl"), "--batch", "100", "--report", report,
                     "--report_every", "500")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual((out["events_sent"], out["events_acknowledged"]), (1234, 1234))
        self.assertEqual(out["format"], "jsonl")
        self.assertEqual(int(self.stats()["events_accepted"]) - before, 1234)
        with open(report) as f:
            rep = json.load(f)
        self.assertEqual([p["events_acknowledged"] for p in rep["curve"]], [500, 1000])
        self.assertIn("logloss", rep["overall"])

    def test_replay_criteo_detected(self):
        lines = []
        for i in range(300):
            ints = [str(i % 7), "", "-3"] + [""] * 10
            cats = [f"c{i % 5}", "68fd1e64"] + [""] * 24
            lines.append("\t".join([str(i % 2)] + ints + cats))
        with open(self.path("c.tsv"), "w") as f:
            f.write("\n".join(lines) + "\n")
        r = self.cli("--json", "replay", self.path("c.tsv"), "--batch", "64")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual((out["format"], out["events_acknowledged"]), ("criteo", 300))
        gen = self.cli("generate", "--n", "50", "--format", "criteo")
        self.assertEqual(len(gen.stdout.splitlines()[0].split("\t")), 40)
        r = self.cli("--json", "replay", "-", "--format", "criteo", stdin=gen.stdout)
        self.assertEqual(json.loads(r.stdout)["events_acknowledged"], 50)

    def test_replay_criteo_real_values_and_skip_header(self):
        row = "\t".join(["1", "0.25", "-3.5e2", "7"] + [""] * 10 + ["a", "b"] + [""] * 24)
        with open(self.path("real.tsv"), "w") as f:
            f.write("label\tI1\tI2\n" + row + "\n" + row + "\n")
        r = self.cli("--json", "replay", self.path("real.tsv"), "--format", "criteo",
                     "--skip_header")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["events_acknowledged"], 2)
        r = self.cli("replay", self.path("real.tsv"), "--format", "criteo")  # header is data
        self.assertEqual(r.returncode, 5)
        self.assertIn("real.tsv:1:", r.stderr)

    def test_replay_csv_with_header_and_columns(self):
        with open(self.path("r.csv"), "w") as f:
            f.write('user,movie,rating,clicked,title\n')
            for i in range(120):
                f.write(f'u{i % 4},m{i % 6},{(i % 5) + 0.5},{i % 2},"A, ""quoted"" {i}"\n')
        r = self.cli("--json", "replay", self.path("r.csv"), "--format", "csv",
                     "--label", "clicked", "--item", "movie", "--numeric", "rating")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual((out["format"], out["events_acknowledged"]), ("csv", 120))
        # Columns the flags name must exist; values must fit their roles.
        for flags, message in [(["--label", "nope"], 'no column "nope" (named by --label)'),
                               (["--label", "clicked", "--numeric", "title"],
                                'title "A, \"quoted\" 0" is not a finite float'),
                               (["--label", "rating"], 'label rating "0.5"')]:
            r = self.cli("replay", self.path("r.csv"), "--format", "csv", *flags)
            if "0.5" in message:  # 0.5 is a valid label; 1.5 on the second line is not
                self.assertEqual(r.returncode, 5, r.stderr)
                self.assertIn('label rating "1.5" is not a number in [0, 1]', r.stderr)
                continue
            self.assertEqual(r.returncode, 5, (flags, r.stderr))
            self.assertIn(message, r.stderr, flags)
        r = self.cli("replay", self.path("r.csv"), "--label", "clicked")
        self.assertEqual(r.returncode, 2)
        self.assertIn("are for --format csv", r.stderr)
        # Hostile pass: a byte-order mark, roles named twice, a reserved column, a csv
        # header skipped by --skip_header.
        with open(self.path("bom.csv"), "w", encoding="utf-8-sig") as f:
            f.write("clicked,user\n1,u1\n0,u2\n")
        r = self.cli("--json", "replay", self.path("bom.csv"), "--format", "csv",
                     "--label", "clicked")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["events_acknowledged"], 2)
        for flags, code, message in [
                (["--label", "clicked", "--item", "clicked"], 5, "named by both --label and --item"),
                (["--label", "clicked", "--numeric", "clicked"], 5, "named by --numeric and by"),
                (["--label", "clicked", "--skip_header"], 2, "--skip_header is for criteo")]:
            r = self.cli("replay", self.path("r.csv"), "--format", "csv", *flags)
            self.assertEqual(r.returncode, code, (flags, r.stderr))
            self.assertIn(message, r.stderr, flags)
        with open(self.path("reserved.csv"), "w") as f:
            f.write("label,item_id\n1,m1\n")
        r = self.cli("replay", self.path("reserved.csv"), "--format", "csv")
        self.assertEqual(r.returncode, 5)
        self.assertIn('"item_id" is reserved', r.stderr)

    def test_malformed_lines(self):
        good = '{"item":{"id":"A"},"label":1}'
        with open(self.path("bad.jsonl"), "w") as f:
            f.write("\n".join([good, good, "{not json", good, '{"item":{"id":"A"},"label":"x"}',
                               good]) + "\n")
        r = self.cli("replay", self.path("bad.jsonl"))
        self.assertEqual(r.returncode, 5)
        self.assertIn("bad.jsonl:3:", r.stderr)
        self.assertIn("2 of the 2 events sent were acknowledged; the first unacknowledged line "
                      "is " + self.path("bad.jsonl") + ":3", r.stderr)
        r = self.cli("--json", "replay", self.path("bad.jsonl"), "--skip-bad")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual((out["events_acknowledged"], out["malformed_lines"]), (4, 2))
        self.assertIn("bad.jsonl:5:", r.stderr)
        # A line the server rejects ends the replay with the server's error.
        with open(self.path("invalid.jsonl"), "w") as f:
            f.write(good + "\n" + '{"item":{"id":"A"},"label":3}' + "\n")
        r = self.cli("replay", self.path("invalid.jsonl"), "--batch", "1")
        self.assertEqual(r.returncode, 4)
        self.assertIn("label", r.stderr)

    def test_replay_stops_at_unparseable_request(self):
        # A string that is not UTF-8 makes the request unparseable on the server. Criteo
        # categories are sent as they are (the JSON parser rejects such a line itself).
        gen = self.cli("generate", "--n", "3000", "--seed", "7", "--format", "criteo",
                       "--output", self.path("u.tsv"))
        self.assertEqual(gen.returncode, 0, gen.stderr)
        with open(self.path("u.tsv"), "rb") as f:
            lines = f.read().split(b"\n")
        for bad_line in (1501, 3000):  # mid-file, and the last line (all writes succeed)
            corrupt = list(lines)
            fields = corrupt[bad_line - 1].split(b"\t")
            fields[14] += b"\xff"  # C1
            corrupt[bad_line - 1] = b"\t".join(fields)
            name = self.path(f"utf8_{bad_line}.tsv")
            with open(name, "wb") as f:
                f.write(b"\n".join(corrupt))
            before = self.stats()
            r = self.cli("replay", name)
            self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
            self.assertIn("request is not a valid streamrec.v1.ObserveRequest", r.stderr)
            acknowledged = (bad_line - 1) // 500 * 500  # the requests (--batch 500) before it
            self.assertRegex(r.stderr, rf"{acknowledged} of the \d+ events sent were acknowledged")
            self.assertIn(f"the first unacknowledged line is {name}:{acknowledged + 1}", r.stderr)
            self.assertNotIn("replayed", r.stdout)
            after = self.stats()
            self.assertEqual(int(after["events_accepted"]) - int(before["events_accepted"]),
                             acknowledged)
            self.assertEqual(int(after.get("requests_malformed", 0)) -
                             int(before.get("requests_malformed", 0)), 1)
        # The same byte in a JSON line is caught by the client's parser (exit 5).
        with open(self.path("utf8.jsonl"), "wb") as f:
            f.write(b'{"item":{"id":"A"},"label":1}\n{"item":{"id":"A\xff"},"label":1}\n')
        r = subprocess.run([CLI, "--server", self.addr, "replay", self.path("utf8.jsonl")],
                           capture_output=True, timeout=60)  # stderr quotes the raw line
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn(b"utf8.jsonl:2:", r.stderr)

    def score(self, server=None):
        out = json.loads(self.cli("--json", "predict", "user=snap", "--item", "S",
                                  server=server).stdout)
        return out["items"][0]["score"], int(out["model_version"])

    def observe_clicks(self, label, n=50):
        lines = '{"context":{"values":{"user":{"category":"snap"}}},"item":{"id":"S"},"label":%d}\n'
        r = self.cli("--json", "replay", "-", "--quiet", stdin=(lines % label) * n)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_snapshots_save_rollback_export_import(self):
        self.observe_clicks(1)
        saved = json.loads(self.cli("--json", "snapshots", "save").stdout)["model_version"]
        good_score, _ = self.score()
        self.observe_clicks(0, 200)
        bad_score, bad_version = self.score()
        self.assertLess(bad_score, good_score)
        r = self.cli("snapshots", "rollback", saved)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"rolled back to snapshot {saved}", r.stdout)
        score, version = self.score()
        self.assertEqual(score, good_score)
        self.assertGreater(version, bad_version)
        listed = json.loads(self.cli("--json", "snapshots", "list").stdout)["snapshots"]
        self.assertIn(version, [int(x["model_version"]) for x in listed])
        self.assertRegex(self.cli("snapshots", "list").stdout, r"version\s+time \(UTC\)")
        self.assertEqual(self.cli("snapshots", "rollback", "999999").returncode, 4)
        self.assertEqual(self.cli("snapshots", "rollback").returncode, 2)

        exported = self.path("model.snapshot")
        r = self.cli("snapshots", "export", exported)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGreater(os.path.getsize(exported), 1 << 20)
        with fresh_server() as target:
            r = self.cli("--json", "snapshots", "import", exported, server=target)
            self.assertEqual(r.returncode, 0, r.stderr)
            imported_score, imported_version = self.score(server=target)
            self.assertEqual(imported_score, good_score)
            self.assertEqual(imported_version, int(json.loads(r.stdout)["model_version"]))
            with open(self.path("junk.snapshot"), "w") as f:
                f.write("not a snapshot")
            r = self.cli("snapshots", "import", self.path("junk.snapshot"), server=target)
            self.assertEqual(r.returncode, 4)
            self.assertIn("not a streamrec snapshot", r.stderr)

    def test_generate_criteo_layout(self):
        # Deterministic for a seed; 40 features (13 numbers, 26 categories, the item) by
        # default, 5 with --features 5; the criteo format carries the item in C26.
        a = self.cli("generate", "--layout", "criteo", "--n", "200", "--seed", "4")
        b = self.cli("generate", "--layout", "criteo", "--n", "200", "--seed", "4")
        self.assertEqual(a.returncode, 0, a.stderr)
        events = [json.loads(line) for line in a.stdout.splitlines()]
        # (Equal events; a protobuf map's JSON key order differs between processes.)
        self.assertEqual(events, [json.loads(line) for line in b.stdout.splitlines()])
        counts = [len(e["context"]["values"]) + 1 for e in events]
        self.assertEqual(max(counts), 40)
        self.assertGreater(sum(counts) / len(counts), 36)  # a few values are missing
        self.assertTrue(all(e["item"]["id"].startswith("i") for e in events))
        clicks = sum(e.get("label", 0) for e in events) / len(events)
        self.assertTrue(0.1 < clicks < 0.45, clicks)
        five = self.cli("generate", "--layout", "criteo", "--n", "50", "--features", "5")
        names = set()
        for line in five.stdout.splitlines():
            names |= set(json.loads(line)["context"]["values"])
        self.assertEqual(names, {"I1", "C1", "C2", "C3"})
        tsv = self.cli("generate", "--layout", "criteo", "--n", "20", "--format", "criteo")
        for line in tsv.stdout.splitlines():
            cols = line.split("\t")
            self.assertEqual(len(cols), 40)
            self.assertTrue(cols[39].startswith("i"), cols[39])
        raw = self.cli("generate", "--layout", "criteo", "--n", "300", "--unscaled")
        biggest = max(v["number"] for line in raw.stdout.splitlines()
                      for v in json.loads(line)["context"]["values"].values() if "number" in v)
        self.assertGreater(biggest, 100)  # counts, not ln(1 + count)
        for bad in (["--layout", "criteo", "--features", "4"], ["--layout", "x"],
                    ["--unscaled"], ["--layout", "criteo", "--users", "3"],
                    ["--layout", "criteo", "--format", "criteo", "--unscaled"],
                    ["--n", "99999999999999999999"], ["--seed", "-1"]):
            r = self.cli("generate", "--n", "1", *bad)
            self.assertEqual(r.returncode, 2, bad)
        zero = self.cli("generate", "--n", "3", "--seed", "0")
        self.assertEqual(zero.returncode, 0, zero.stderr)
        self.assertEqual(len(zero.stdout.splitlines()), 3)

    def test_default_model_beats_the_click_rate_on_click_log_shapes(self):
        # The default config (no --model_config) on 40-feature click-log events, with the
        # numbers scaled and raw (counts up to 10,000): each beats the constant click rate.
        for extra in ([], ["--unscaled"]):
            with fresh_server() as addr:
                gen = self.cli("generate", "--layout", "criteo", "--n", "30000", *extra)
                r = self.cli("--json", "replay", "-", "--quiet", stdin=gen.stdout, server=addr)
                self.assertEqual(r.returncode, 0, r.stderr)
                overall = json.loads(r.stdout)["overall"]
                self.assertLess(overall["normalized_entropy"], 0.95, (extra, overall))

    def test_generate_replay_approaches_optimum(self):
        with fresh_server() as addr:
            gen = subprocess.run([CLI, "--json", "generate", "--n", "100000", "--seed", "5",
                                  "--users", "50", "--items", "40"],
                                 capture_output=True, text=True, timeout=120)
            optimum = json.loads(gen.stderr)["optimal_logloss"]
            r = self.cli("--json", "replay", "-", "--quiet", stdin=gen.stdout,
                         server=addr)
            self.assertEqual(r.returncode, 0, r.stderr)
            out = json.loads(r.stdout)
            self.assertEqual(out["events_acknowledged"], 100000)
            # Stated margin: overall progressive logloss within 0.04 nats of the optimum,
            # the last 10,000 events within 0.025.
            self.assertLess(out["overall"]["logloss"], optimum + 0.04)
            self.assertLess(out["window"]["logloss"], optimum + 0.025)


class EventIdTest(unittest.TestCase):
    """Replay's RUN:LINE event ids against a server of its own (the default
    --dedup_window), and --json_ints_as_numbers."""
    N = 400

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.events = os.path.join(cls.tmp.name, "g.jsonl")
        subprocess.run([CLI, "generate", "--n", str(cls.N), "--seed", "5", "--output",
                        cls.events], check=True, capture_output=True)
        with open(cls.events) as f:
            lines = f.readlines()
        cls.prefix = os.path.join(cls.tmp.name, "prefix.jsonl")
        with open(cls.prefix, "w") as f:
            f.writelines(lines[:150])

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def cli(self, addr, *args):
        return subprocess.run([CLI, "--server", addr, *admin_flags(addr), *args], capture_output=True, text=True,
                              timeout=300)

    def replay(self, addr, path, *flags):
        r = self.cli(addr, "--json", "replay", path, "--quiet", *flags)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout), r.stderr

    def applied(self, addr):
        stats = json.loads(self.cli(addr, "--json", "stats").stdout)
        return int(stats["events_applied"]), int(stats["duplicates_dropped"])

    def test_same_run_id_trains_once(self):
        with fresh_server() as addr:
            first, err = self.replay(addr, self.events, "--run_id", "run-1")
            self.assertEqual((first["run_id"], first["events_acknowledged"],
                              first["duplicates"]), ("run-1", self.N, 0))
            self.assertIn("run id run-1; resume exactly with --run_id run-1", err)
            again, _ = self.replay(addr, self.events, "--run_id", "run-1")
            self.assertEqual((again["events_acknowledged"], again["duplicates"]),
                             (self.N, self.N))
            self.assertEqual(self.applied(addr), (self.N, self.N))
            r = self.cli(addr, "replay", self.events, "--run_id", "run-1", "--quiet")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(f"the server dropped {self.N} duplicate events", r.stdout)

    def test_new_run_trains_again(self):
        with fresh_server() as addr:
            a, err_a = self.replay(addr, self.events)
            b, err_b = self.replay(addr, self.events)
            self.assertRegex(a["run_id"], r"^[0-9a-f]{16}$")
            self.assertNotEqual(a["run_id"], b["run_id"])
            self.assertIn(f"run id {a['run_id']}; resume exactly with --run_id {a['run_id']}",
                          err_a)
            self.assertEqual((a["duplicates"], b["duplicates"]), (0, 0))
            self.assertEqual(self.applied(addr), (2 * self.N, 0))

    def test_no_event_ids_trains_again(self):
        with fresh_server() as addr:
            for _ in range(2):
                out, err = self.replay(addr, self.events, "--no_event_ids")
                self.assertEqual((out["run_id"], out["duplicates"]), (None, 0))
                self.assertNotIn("run id", err)
            self.assertEqual(self.applied(addr), (2 * self.N, 0))
            r = self.cli(addr, "replay", self.events, "--no_event_ids", "--run_id", "x")
            self.assertEqual(r.returncode, 2, r.stderr)

    def test_cut_replay_resumed_with_its_run_id_trains_each_line_once(self):
        with fresh_server() as addr:
            cut, _ = self.replay(addr, self.prefix, "--run_id", "r7")
            self.assertEqual(cut["events_acknowledged"], 150)
            # Resumed 50 lines before the cut (those were logged): dropped, not retrained.
            rest, _ = self.replay(addr, self.events, "--run_id", "r7", "--resume_from", "101")
            self.assertEqual((rest["events_sent"], rest["duplicates"]), (self.N - 100, 50))
            whole, _ = self.replay(addr, self.events, "--run_id", "r7")
            self.assertEqual(whole["duplicates"], self.N)
            self.assertEqual(self.applied(addr), (self.N, 50 + self.N))

    def test_event_id_in_the_file_is_kept(self):
        line = json.dumps({"item": {"id": "A"}, "label": 1, "event_id": "mine"}) + "\n"
        path = os.path.join(self.tmp.name, "own.jsonl")
        with open(path, "w") as f:
            f.write(line + line.replace("mine", "other"))
        with fresh_server() as addr:
            self.replay(addr, path, "--run_id", "a")
            out, _ = self.replay(addr, path, "--run_id", "b")  # same ids in the file
            self.assertEqual(out["duplicates"], 2)
            r = self.cli(addr, "--json", "observe", "--item", "A", "--label", "1",
                         "--event_id", "other")
            self.assertEqual(json.loads(r.stdout)["duplicates"], "1")

    def test_run_id_is_validated(self):
        for bad in ("", "a:b", "x" * 65, "a b"):
            r = self.cli("127.0.0.1:1", "replay", self.events, "--run_id", bad)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))
            self.assertIn("--run_id must be", r.stderr)

    def test_json_ints_as_numbers(self):
        with fresh_server() as addr:
            self.replay(addr, self.events)
            strings = json.loads(self.cli(addr, "--json", "stats").stdout)
            r = self.cli(addr, "--json_ints_as_numbers", "stats")
            self.assertEqual(r.returncode, 0, r.stderr)
            numbers = json.loads(r.stdout)
            self.assertIsInstance(strings["events_applied"], str)
            self.assertEqual(numbers["events_applied"], self.N)
            self.assertEqual(numbers["queue_max_bytes"], int(strings["queue_max_bytes"]))
            self.assertEqual(numbers["progressive"]["events"], self.N)
            self.assertEqual(numbers["events_rejected"]["invalid_argument"], 0)  # map values
            self.assertIsInstance(numbers["storage_error"], str)  # strings stay strings
            self.assertIsInstance(numbers["storage_writable"], bool)
            self.assertEqual(numbers["progressive"]["logloss"],
                             strings["progressive"]["logloss"])
            # Every string that held a 64-bit integer is a number, nothing else changed type.
            def types(v):
                if isinstance(v, dict):
                    return {k: types(x) for k, x in v.items()}
                if isinstance(v, bool) or not isinstance(v, (int, str)):
                    return type(v)
                return "int" if isinstance(v, int) or v.lstrip("-").isdigit() else str
            self.assertEqual(types(numbers), types(strings))
            # With --json too, on a command's response, and replay's summary metrics.
            r = self.cli(addr, "--json", "--json_ints_as_numbers", "observe", "--item", "A",
                         "--label", "1")
            self.assertEqual(json.loads(r.stdout), {"accepted": 1, "duplicates": 0,
                                                "rewards_joined": 0, "rewards_dropped": 0})
            out = json.loads(self.cli(addr, "--json_ints_as_numbers", "replay", self.events,
                                      "--quiet").stdout)
            self.assertIsInstance(out["overall"]["events"], int)
            r = self.cli(addr, "--json_ints_as_numbers", "snapshots", "list")
            self.assertEqual(r.returncode, 0, r.stderr)
            snaps = json.loads(r.stdout)["snapshots"]
            self.assertTrue(snaps)
            self.assertTrue(all(isinstance(s["model_version"], int) for s in snaps), snaps)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
