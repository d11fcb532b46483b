#!/usr/bin/python3
"""The streamrec CLI keeps its promises (issue 10), through the real CLI process against a
real server: the README's exit codes on every path, gRPC statuses named, the feature
notation (vectors inside items, `name:=value`), numeric flags checked, either spelling of
a multi-word flag, --version and per-command help, the bash completion, replay's failure
reports (the line of a rejected event, no summary) and --skip_bad for events the server
rejects, `stats --watch` on a terminal, rejection reasons in order, counted nouns, and
`info` showing the configured optimizer's own fields.

Usage: cli_contract_test.py SERVER_BINARY CLI_BINARY SOURCE_DIR BUILD_DIR
"""
import json
import os
import pty
import re
import select
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import unittest
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_harness  # noqa: E402
from cli_harness import fresh_server  # noqa: E402

SERVER, CLI, SOURCE, BUILD = sys.argv[1:5]
COMPLETION = os.path.join(SOURCE, "client", "streamrec.bash-completion")
GOOD = '{"item":{"id":"A"},"label":1}'
BAD_LABEL = '{"item":{"id":"A"},"label":3}'


class CliContractTest(cli_harness.CliServerCase):
    SERVER, CLI = SERVER, CLI

    def write(self, name, lines):
        with open(self.path(name), "w") as f:
            f.write("\n".join(lines) + "\n")
        return self.path(name)

    def accepted(self, server=None):
        return int(json.loads(self.cli("--json", "stats", server=server).stdout)
                   .get("events_accepted", 0))

    # Exit codes and errors.

    def test_exit_codes_match_the_readme(self):
        with open(os.path.join(SOURCE, "README.md")) as f:
            readme = f.read()
        readme = readme[readme.index("## The `streamrec` CLI"):]
        readme = readme[:readme.index("\n## ")]
        table = dict(re.findall(r"^\| (\d) \| (.+) \|$", readme, re.M))
        self.assertEqual(sorted(table), ["0", "2", "3", "4", "5"], "README exit-code table")
        missing = self.path("missing.json")
        # 5: input that cannot be read or is malformed.
        bad_jsonl = self.write("malformed.jsonl", [GOOD, "{not json"])
        for args in (["predict", "--request", "@" + missing],
                     ["predict", "--request", "{not json"],
                     ["observe", "--request", "@" + missing],
                     ["observe", "--request", "[1, 2]"],
                     ["replay", missing],
                     ["replay", bad_jsonl],
                     ["snapshots", "import", missing]):
            r = self.cli(*args)
            self.assertEqual(r.returncode, 5, (args, r.stderr))
            self.assertNotIn("streamrec help", r.stderr, args)  # not a usage error
        self.assertIn("cannot read " + missing, self.cli("predict", "--request",
                                                          "@" + missing).stderr)
        r = self.cli("predict", "--request", "@-", stdin="")  # @- is a file named "-"
        self.assertEqual(r.returncode, 5, r.stderr)
        # 2: the command line.
        for args in (["frobnicate"], ["predict", "user=u1"], ["stats", "--bogus", "1"],
                     ["predict", "--item", "A", "--top_k", "x"], ["replay"],
                     ["health", "extra"], ["predict", "user", "--item", "A"], ["help", "nope"]):
            r = self.cli(*args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
        self.assertEqual(subprocess.run([CLI], capture_output=True).returncode, 2)
        # 3 and 4.
        self.assertEqual(self.cli("health", server="127.0.0.1:1").returncode, 3)
        self.assertEqual(self.cli("observe", "--item", "A", "--label", "2").returncode, 4)

    def test_errors_name_the_grpc_status(self):
        r = self.cli("observe", "--item", "A", "--label", "2")
        self.assertEqual(r.stderr,
                         "streamrec: observe: INVALID_ARGUMENT: events[0].label: 2 is outside "
                         "[0, 1]\n")
        r = self.cli("snapshots", "rollback", "999999")
        self.assertRegex(r.stderr, r"^streamrec: snapshots rollback: [A-Z_]+: ")
        r = self.cli("health", server="127.0.0.1:1")
        self.assertRegex(r.stderr, r"^streamrec: health: UNAVAILABLE: cannot reach the server")
        # A port that accepts connections but never answers: the deadline, not a refusal
        # (a tiny --timeout against a live server raced its fast answer).
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)
            r = self.cli("--timeout", "0.3", "stats",
                         server=f"127.0.0.1:{silent.getsockname()[1]}")
        self.assertRegex(r.stderr, r"^streamrec: stats: DEADLINE_EXCEEDED: no answer from")

    # Feature notation and flags.

    def score(self, *features, item="A"):
        r = self.cli("--json", "predict", *features, "--item", item)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)["items"][0]["score"]

    def test_vectors_inside_items(self):
        r = self.cli("observe", "--item", "V1,item_emb=[0.1,0.2],genre=war", "--label", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        # The server took item_emb as a 2-dim vector: a 3-dim one is now refused.
        r = self.cli("predict", "--item", "V1,item_emb=[0.1,0.2,0.3]")
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn("item_emb", r.stderr)
        r = self.cli("predict", "--item", "V1,item_emb=[0.5,-1e-3],genre=war", "--item", "V2")
        self.assertEqual(r.returncode, 0, r.stderr)
        for bad in ("V1,item_emb=[0.1,0.2", "V1,item_emb=0.1]", "V1,item_emb=[0.1,x]",
                    "V1,item_emb=[0.1,,0.2]"):
            r = self.cli("predict", "--item", bad)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))
            self.assertIn(bad.split(",", 1)[1].split(",")[0][:8], r.stderr, bad)

    def test_colon_equals_is_always_a_category(self):
        for _ in range(3):
            r = self.cli("observe", "forced_cat:=007", "--item", "FC", "--label", "1")
            self.assertEqual(r.returncode, 0, r.stderr)
        time.sleep(0.5)  # published
        as_number = self.score("forced_cat=007", item="FC")
        self.assertEqual(as_number, self.score("forced_cat=7", item="FC"))  # the number 7
        forced = self.score("forced_cat:=007", item="FC")
        self.assertGreater(forced, as_number)
        # The same feature as the category "007" sent in JSON.
        r = self.cli("--json", "predict", "--request",
                     '{"context":{"values":{"forced_cat":{"category":"007"}}},'
                     '"candidates":[{"id":"FC"}]}')
        self.assertEqual(json.loads(r.stdout)["items"][0]["score"], forced, r.stderr)
        r = self.cli("predict", "--item", "FC,kind:=12", "--item", "B")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_numeric_flags_are_checked(self):
        cases = [
            (["predict", "--item", "A", "--top_k", "1.7"], "--top_k"),
            (["predict", "--item", "A", "--top_k", "-1"], "--top_k"),
            (["predict", "--item", "A", "--top_k", "99999999999"], "--top_k"),
            (["stats", "--count", "abc"], "--count"),
            (["stats", "--count", "0"], "--count"),
            (["stats", "--watch", "--count", "1.5"], "--count"),
            (["observe", "--item", "A", "--label", "abc"], "--label"),
            (["observe", "--item", "A", "--label", "1", "--weight", "nan"], "--weight"),
            (["replay", "-", "--batch", "1.5"], "--batch"),
            (["replay", "-", "--batch", "0"], "--batch"),
            (["replay", "-", "--rate", "fast"], "--rate"),
            (["replay", "-", "--report_every", "-3"], "--report_every"),
            (["generate", "--n", "1.5"], "--n"),
            (["generate", "--n", " 5"], "--n"),
            (["generate", "--seed", "+1"], "--seed"),
            (["generate", "--users", "2e3"], "--users"),
            (["generate", "--items", "x"], "--items"),
            (["generate", "--layout", "criteo", "--features", "7.5"], "--features"),
            (["snapshots", "export", self.path("x.snap"), "--version", "1.5"], "--version"),
            (["--timeout", "abc", "stats"], "--timeout"),
            (["--timeout", "-1", "stats"], "--timeout"),
            (["--timeout", "1e18", "stats"], "--timeout"),  # overflowed: failed at once
            (["--server", "", "stats"], "--server"),
            (["predict", "--item", "A", "--request", '{"candidates":[{"id":"m1"}]}'], "--item"),
            (["predict", "user=u1", "--request", '{"candidates":[{"id":"m1"}]}'], "--request"),
            (["observe", "--label", "1", "--request", GOOD], "--label"),
        ]
        for args, flag in cases:
            r = self.cli(*args, stdin="")
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            self.assertIn(flag, r.stderr, args)
        r = self.cli("--json", "predict", "--item", "A", "--item", "B", "--top_k", "1")
        self.assertEqual(len(json.loads(r.stdout)["items"]), 1)

    def test_flag_spellings(self):
        path = self.write("spell.jsonl", [GOOD, "{bad", GOOD])
        for flag in ("--skip_bad", "--skip-bad"):
            r = self.cli("--json", "replay", path, flag)
            self.assertEqual(r.returncode, 0, (flag, r.stderr))
            self.assertEqual(json.loads(r.stdout)["malformed_lines"], 1)
        r = self.cli("--json", "predict", "--item", "A", "--item", "B", "--top-k", "1")
        self.assertEqual(len(json.loads(r.stdout)["items"]), 1, r.stderr)
        r = self.cli("--json", "replay", path, "--skip-bad", "--report-every=1", "--batch", "1",
                     "--report", self.path("spell_report.json"))
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.path("spell_report.json")) as f:
            self.assertEqual(len(json.load(f)["curve"]), 2)
        r = self.cli("observe", "--item", "A", "--label", "1", "--event-id", "spell-1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("--skip_bad", self.cli("help", "replay").stdout)

    # Version, help, completion.

    def test_version_and_help(self):
        with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
            version = re.search(r"project\(streamrec VERSION ([0-9.]+)", f.read()).group(1)
        r = subprocess.run([CLI, "--version"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        # The version, the git revision it was built from (12 hex digits, "-dirty" with
        # uncommitted changes; "unknown" without .git) and the build type.
        self.assertRegex(r.stdout, r"^streamrec " + re.escape(version) +
                         r" \(git ([0-9a-f]{12}(-dirty)?|unknown), \w+ build\)\n$")
        general = subprocess.run([CLI, "help"], capture_output=True, text=True)
        self.assertEqual(general.returncode, 0)
        for flag in ("--help", "-h"):
            r = subprocess.run([CLI, flag], capture_output=True, text=True)
            self.assertEqual((r.returncode, r.stdout), (0, general.stdout))
        for command in ("predict", "observe", "health", "info", "stats", "replay", "generate",
                        "snapshots", "bench", "evaluate", "simulate"):
            self.assertIn(f"  {command}", general.stdout)
            outs = [subprocess.run([CLI, *args], capture_output=True, text=True)
                    for args in (["help", command], [command, "--help"], [command, "-h"])]
            for r in outs:
                self.assertEqual((r.returncode, r.stderr), (0, ""), command)
                self.assertEqual(r.stdout, outs[0].stdout, command)
            usage = self.usage_block(outs[0].stdout)
            self.assertTrue(usage.lstrip().startswith(command), (command, usage))
            for other in ("predict", "generate"):
                if other != command:
                    self.assertNotIn(f"  {other} ", usage, command)
        self.assertIn("--top_k", subprocess.run([CLI, "predict", "--help"], capture_output=True,
                                                text=True).stdout)
        # --version after the command is snapshots export's flag, not the version.
        r = self.cli("snapshots", "export", self.path("v.snap"), "--version", "x")
        self.assertEqual(r.returncode, 2)

    @staticmethod
    def usage_block(text):
        """The command's own lines of `streamrec help COMMAND` (between the first two
        blank lines)."""
        return text.split("\n\n")[1]

    def complete(self, *words):
        """What the completion script offers for `streamrec WORDS...` (the last is the
        word being completed)."""
        quoted = " ".join(shlex.quote(w) for w in words)
        script = (f"source {shlex.quote(COMPLETION)}\nCOMP_WORDS=(streamrec {quoted})\n"
                  f"COMP_CWORD={len(words)}\n_streamrec\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n")
        r = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return set(r.stdout.split())

    def test_bash_completion(self):
        r = subprocess.run(["bash", "-n", COMPLETION], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.complete("pre"), {"predict"})
        self.assertEqual(self.complete("s"), {"stats", "snapshots", "simulate"})
        self.assertEqual(self.complete("--server", "h:1", "he"), {"health", "help"})
        self.assertEqual(self.complete("replay", "--sk"), {"--skip_bad", "--skip_header"})
        self.assertEqual(self.complete("snapshots", "ro"), {"rollback"})
        self.assertEqual(self.complete("replay", "--format", "c"), {"criteo", "csv"})
        self.assertEqual(self.complete("bench", "fr"), {"freshness"})
        self.assertEqual(self.complete("bench", "observe", "--mode", ""), {"unary", "stream"})
        self.assertEqual(self.complete("bench", "swap", "--sa"), {"--save_interval"})
        self.assertNotIn("--probes", self.complete("bench", "predict", "--"))
        # Each command's flags are the ones its help lists (and the global ones).
        for command in ("predict", "observe", "health", "info", "stats", "replay", "generate",
                        "snapshots", "bench", "evaluate", "simulate"):
            usage = self.usage_block(subprocess.run([CLI, "help", command], capture_output=True,
                                                    text=True).stdout)
            listed = set(re.findall(r"--[a-z_]+", usage))
            self.assertEqual(self.complete(command, "--"),
                             listed | {"--server", "--timeout", "--json", "--json_ints_as_numbers",
                                       "--help", "--admin_server", "--tls", "--ca", "--cert",
                                       "--key", "--token_file"}, command)
        # `cmake --install` puts it where bash-completion looks for it by name.
        with tempfile.TemporaryDirectory() as prefix:
            r = subprocess.run(["cmake", "--install", BUILD, "--prefix", prefix],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            installed = os.path.join(prefix, "share", "bash-completion", "completions",
                                     "streamrec")
            r = subprocess.run(["bash", "-c", f"source {shlex.quote(installed)} && "
                                "complete -p streamrec"], capture_output=True, text=True)
            self.assertIn("-F _streamrec", r.stdout, r.stderr)

    # Replay.

    def test_failed_replay_prints_no_summary(self):
        path = self.write("fail.jsonl", [GOOD, GOOD, "{not json", GOOD])
        r = self.cli("replay", path)
        self.assertEqual(r.returncode, 5)
        self.assertEqual(r.stdout, "")
        self.assertIn(f"{path}:3:", r.stderr)
        self.assertIn(f"2 of the 2 events sent were acknowledged; the first unacknowledged "
                      f"line is {path}:3", r.stderr)
        r = self.cli("--json", "replay", path)
        self.assertEqual((r.returncode, r.stdout), (5, ""))

    def test_json_summaries_escape_file_names(self):
        path = self.write('we"ird\\name.jsonl', [GOOD])
        r = self.cli("--json", "replay", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["file"], path)

    def test_resume_from_past_the_end_is_an_input_error(self):
        path = self.write("short.jsonl", [GOOD, GOOD])
        r = self.cli("replay", path, "--resume_from", "30")
        self.assertEqual((r.returncode, r.stdout), (5, ""), r.stderr)
        self.assertIn(f"--resume_from 30 is past the end of {path} (2 lines)", r.stderr)
        self.assertEqual(self.cli("replay", path, "--resume_from", "3").returncode, 0)

    def test_rejected_event_is_named_by_its_line(self):
        lines = [GOOD] * 16 + [BAD_LABEL] + [GOOD] * 3
        path = self.write("reject.jsonl", lines)
        before = self.accepted()
        r = self.cli("replay", path, "--batch", "10")
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertIn(f"streamrec: replay: INVALID_ARGUMENT: {path}:17: label: 3 is outside "
                      f"[0, 1]", r.stderr)
        self.assertNotIn("events[6]", r.stderr)
        self.assertRegex(r.stderr, rf"10 of the \d+ events sent were acknowledged; the first "
                         rf"unacknowledged line is {re.escape(path)}:11\n")
        self.assertEqual(self.accepted() - before, 10)

    def test_skip_bad_skips_events_the_server_rejects(self):
        lines = [GOOD] * 30
        lines[4] = BAD_LABEL
        lines[16] = BAD_LABEL
        lines[20] = "{not json"
        path = self.write("skip.jsonl", lines)
        before = self.accepted()
        r = self.cli("--json", "replay", path, "--batch", "10", "--skip_bad")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual((out["events_sent"], out["events_acknowledged"], out["rejected_events"],
                          out["malformed_lines"]), (29, 27, 2, 1))
        self.assertIn(f"skipped {path}:5: label: 3 is outside [0, 1]", r.stderr)
        self.assertIn(f"skipped {path}:17: label: 3 is outside [0, 1]", r.stderr)
        self.assertEqual(self.accepted() - before, 27)
        r = self.cli("replay", path, "--skip_bad", "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("skipped 2 events the server rejected", r.stdout)
        self.assertIn("skipped 1 malformed line\n", r.stdout)

    def test_skip_bad_finds_an_unparseable_event_in_its_request(self):
        # A criteo category that is not UTF-8 makes the whole request unparseable (no
        # event index): its request is split to find the one event.
        gen = self.cli("generate", "--n", "1200", "--seed", "9", "--format", "criteo",
                       "--output", self.path("skip.tsv"))
        self.assertEqual(gen.returncode, 0, gen.stderr)
        with open(self.path("skip.tsv"), "rb") as f:
            rows = f.read().split(b"\n")
        fields = rows[700].split(b"\t")
        fields[14] += b"\xff"
        rows[700] = b"\t".join(fields)
        with open(self.path("skip_bad.tsv"), "wb") as f:
            f.write(b"\n".join(rows))
        before = self.accepted()
        r = subprocess.run([CLI, "--server", self.addr, "--json", "replay",
                            self.path("skip_bad.tsv"), "--skip_bad"],
                           capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual((out["events_acknowledged"], out["rejected_events"]), (1199, 1))
        self.assertIn(b"skip_bad.tsv:701: request is not a valid", r.stderr)
        self.assertEqual(self.accepted() - before, 1199)

    # Text.

    def test_counted_nouns(self):
        path = self.write("one.jsonl", [GOOD])
        r = self.cli("replay", path, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("replayed 1 event (1 acknowledged)", r.stdout)
        r = self.cli("replay", self.write("two.jsonl", [GOOD, "{x", GOOD]), "--skip_bad")
        self.assertIn("replayed 2 events", r.stdout)
        self.assertIn("skipped 1 malformed line\n", r.stdout)
        r = self.cli("generate", "--n", "1")
        self.assertIn("generated 1 event (seed", r.stderr)
        r = self.cli("observe", "--item", "A", "--label", "1")
        self.assertEqual(r.stdout, "accepted 1 event\n")
        r = self.cli("replay", self.write("onefail.jsonl", [GOOD, "{x"]))
        self.assertIn("1 of the 1 event sent was acknowledged", r.stderr)

    def test_rejection_reasons_in_the_readme_order(self):
        r = self.cli("stats")
        reasons = re.search(r"^rejected\s+(.*)$", r.stdout, re.M).group(1).split()[::2]
        self.assertEqual(reasons, ["invalid_argument", "queue_full", "queue_bytes_full",
                                   "unavailable", "storage_unavailable"])
        with open(os.path.join(SOURCE, "proto", "streamrec", "v1", "admin.proto")) as f:
            listed = re.findall(r'"([a-z_]+)"', f.read().split("events_rejected")[0][-600:])
        self.assertEqual(reasons, listed)

    def test_stats_watch_redraws_on_a_terminal(self):
        clear = "\x1b[H\x1b[2J"
        piped = self.cli("stats", "--watch", "--count", "2")
        self.assertEqual(piped.returncode, 0, piped.stderr)
        self.assertNotIn("\x1b", piped.stdout)
        self.assertEqual(piped.stdout.count("rejected "), 2)
        master, slave = pty.openpty()
        proc = subprocess.Popen([CLI, "--server", self.addr, "stats", "--watch", "--count", "2"],
                                stdout=slave, stderr=subprocess.PIPE)
        os.close(slave)
        out = b""
        while True:
            ready, _, _ = select.select([master], [], [], 30)
            if not ready:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        os.close(master)
        self.assertEqual(proc.wait(timeout=30), 0)
        proc.stderr.close()
        text = out.decode()
        self.assertEqual(text.count(clear), 2, text)
        self.assertTrue(text.startswith(clear), text[:40])

    # info.

    def info_lines(self, config):
        with open(self.path("model.textproto"), "w") as f:
            f.write(config)
        with fresh_server(SERVER, f"--model_config={self.path('model.textproto')}") as addr:
            r = self.cli("info", server=addr)
            self.assertEqual(r.returncode, 0, r.stderr)
            return {line.split()[0]: line for line in r.stdout.splitlines()}

    def test_info_shows_the_configured_optimizer_and_model(self):
        cases = [
            ("hash_bits: 12 optimizer { kind: FTRL l1: 0.5 }",
             r"FTRL-Proximal  alpha 1  beta 1  l1 0.5  l2 1  normalized true$", "epsilon"),
            ("hash_bits: 12 optimizer { kind: ADAM learning_rate: 0.02 }",
             r"Adam  learning_rate 0.02  beta1 0.9  beta2 0.999  epsilon 1e-08$", " l1 "),
            ("hash_bits: 12 optimizer { kind: ADAGRAD }",
             r"Adagrad  learning_rate 0.3  initial_accumulator 0.1  epsilon 1e-06$", " l1 "),
            ("hash_bits: 12 optimizer { kind: SGD l2: 0.01 }",
             r"SGD  learning_rate 0.1  l2 0.01$", " l1 "),
        ]
        for config, optimizer, absent in cases:
            lines = self.info_lines(config)
            self.assertRegex(lines["optimizer"], optimizer, config)
            self.assertNotIn(absent, lines["optimizer"], config)
            self.assertIn("hash_bits 12", lines["model"], config)
        lines = self.info_lines("kind: FM hash_bits: 12 fm_factors: 4")
        self.assertRegex(lines["model"], r"FM .*hash_bits 12  fm_factors 4$")
        lines = self.info_lines('kind: DNN hash_bits: 10 dnn { embedding_dim: 4 hidden: 16 '
                                'hidden: 8 fields: "user" dense_fields: "price" }')
        self.assertIn("DNN", lines["model"])
        self.assertRegex(lines["dnn"], r"embedding_dim 4  hidden 16,8  dropout 0.5  "
                         r"batch_size 256  clip_norm 10  pooling MEAN  other_slot true")
        self.assertEqual(lines["fields"].split()[1:], ["user"])
        self.assertEqual(lines["dense_fields"].split()[1:], ["price:1"])
        self.assertRegex(lines["optimizer"], r"^optimizer\s+Adam  learning_rate 0.001 ")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
