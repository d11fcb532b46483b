#!/usr/bin/python3
"""`streamrec bench` against real servers (issue 12): each subcommand with tiny durations
and --json gives the documented fields with sane numbers, --output writes the same JSON,
and bench predict without --bench_service says the baseline needs it and still succeeds.

Usage: bench_cli_test.py SERVER_BINARY CLI_BINARY
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_harness import fresh_server  # noqa: E402
from server_log import admin_flags  # noqa: E402

SERVER, CLI = sys.argv[1:3]
LATENCY = {"calls", "seconds", "qps", "mean_us", "p50_us", "p90_us", "p99_us", "p999_us",
           "max_us"}


class BenchCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = fresh_server(SERVER, "--bench_service", "--metrics_listen=")
        cls.addr = cls.server.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def bench(self, *args, addr=None):
        addr = addr or self.addr
        r = subprocess.run([CLI, "--server", addr, *admin_flags(addr), "--json", "bench", *args],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout), r.stderr

    def assertLatency(self, s):
        self.assertTrue(LATENCY <= set(s), s)
        self.assertGreater(s["calls"], 0)
        self.assertGreater(s["qps"], 0)
        self.assertGreater(s["p50_us"], 0)
        self.assertTrue(s["p50_us"] <= s["p90_us"] <= s["p99_us"] <= s["p999_us"] <= s["max_us"],
                        s)

    def test_predict_with_its_noop_baseline(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "predict.json")
            j, _ = self.bench("predict", "--duration", "0.5", "--concurrency", "4",
                              "--candidates", "20", "--output", out)
            with open(out) as f:
                self.assertEqual(json.load(f), j)
        self.assertEqual((j["bench"], j["candidates"], j["concurrency"]), ("predict", 20, 4))
        self.assertLatency(j["predict"])
        self.assertLatency(j["noop"])
        self.assertGreater(j["request_bytes"], 0)
        self.assertGreater(j["response_bytes"], 0)
        self.assertAlmostEqual(j["ratio"], j["predict"]["qps"] / j["noop"]["qps"], places=3)
        self.assertGreater(j["ratio"], 0)

    def test_predict_without_bench_service_has_no_ratio(self):
        with fresh_server(SERVER, "--metrics_listen=") as addr:
            j, err = self.bench("predict", "--duration", "0.3", addr=addr)
        self.assertLatency(j["predict"])
        self.assertIsNone(j["ratio"])
        self.assertIsNone(j["noop"])
        self.assertIn("--bench_service", j["noop_note"])
        self.assertIn("--bench_service", err)

    def test_observe_unary_and_stream(self):
        for mode in ("unary", "stream"):
            j, _ = self.bench("observe", "--mode", mode, "--events", "2048", "--batch", "64",
                              "--concurrency", "2")
            self.assertEqual((j["mode"], j["batch"], j["features"]), (mode, 64, 40))
            self.assertEqual(j["events_acked"], 2048)
            self.assertEqual(j["events_applied"], 2048)
            self.assertGreater(j["acked_per_s"], 0)
            self.assertGreater(j["applied_per_s"], 0)
            self.assertGreaterEqual(j["applied_seconds"], j["ack_seconds"])
            self.assertLatency(j["request_latency"])
            self.assertIn("durability_hint", j)
        j, _ = self.bench("observe", "--duration", "0.3", "--features", "5")
        self.assertGreater(j["events_acked"], 0)

    def test_observe_unary_sends_pushed_back_calls_again(self):
        # A queue of 64 events under 4 calls of 64: the server refuses some with
        # RESOURCE_EXHAUSTED; the bench sends them again (flow control), so every event is
        # acknowledged once and the run succeeds.
        with fresh_server(SERVER, "--queue_capacity=64", "--max_events_per_request=64",
                          "--metrics_listen=") as addr:
            j, _ = self.bench("observe", "--mode", "unary", "--events", "4096", "--batch",
                              "64", "--concurrency", "4", addr=addr)
            self.assertEqual(j["events_acked"], 4096)
            self.assertEqual(j["events_applied"], 4096)
            self.assertEqual(j["failed"], 0)
            self.assertGreater(j["pushed_back"], 0)

    def test_mixed_and_swap(self):
        j, _ = self.bench("mixed", "--duration", "0.4", "--observe_rate", "4000",
                          "--candidates", "10")
        self.assertLatency(j["idle"])
        self.assertLatency(j["training"])
        self.assertGreater(j["observe"]["requests"], 0)
        self.assertGreater(j["p99_ratio"], 0)
        j, _ = self.bench("swap", "--duration", "0.4", "--observe_rate", "4000",
                          "--save_interval", "0.1", "--candidates", "10")
        self.assertLatency(j["idle"])
        self.assertLatency(j["swapping"])
        self.assertGreater(j["saves"], 0)
        self.assertGreater(j["publications"], 0)
        self.assertGreater(j["snapshots_persisted"], 0)
        self.assertAlmostEqual(j["p99_ratio"], j["swapping"]["p99_us"] / j["idle"]["p99_us"],
                               places=3)

    def test_freshness(self):
        j, _ = self.bench("freshness", "--probes", "5", "--background_rate", "2000")
        self.assertEqual((j["probes"], j["reflected"], j["timeouts"]), (5, 5, 0))
        self.assertGreater(j["p50_ms"], 0)
        self.assertGreaterEqual(j["p99_ms"], j["p50_ms"])
        self.assertGreater(j["background"]["requests"], 0)

    def test_tables_and_usage_errors(self):
        r = subprocess.run([CLI, "--server", self.addr, "bench", "predict", "--duration", "0.2",
                            "--candidates", "5"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Predict QPS / no-op QPS:", r.stdout)
        for args in (["bench"], ["bench", "nope"], ["bench", "observe", "--mode", "x"],
                     ["bench", "predict", "--duration", "0"],
                     ["bench", "observe", "--events", "5", "--duration", "1"],
                     ["bench", "predict", "--candidate_features", "30",
                      "--context_features", "10"]):
            r = subprocess.run([CLI, "--server", self.addr, *args], capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(r.returncode, 2, (args, r.stderr))

    def test_runs_that_measured_nothing_do_not_exit_ok(self):
        def run(*args):
            return subprocess.run([CLI, "--server", self.addr, *admin_flags(self.addr), "--json",
                                   "bench", *args], capture_output=True, text=True, timeout=120)
        # Another subcommand's flag is a usage error, not silently ignored.
        r = run("freshness", "--observe_rate", "5")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--observe_rate does not apply to bench freshness", r.stderr)
        # An unwritable --output is found before the run.
        r = run("predict", "--duration", "30", "--output", "/nonexistent/dir/x.json")
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn("cannot write --output", r.stderr)
        # No probe reflected: no percentiles, and the exit says so.
        r = run("freshness", "--probes", "2", "--probe_timeout", "0.0001")
        self.assertEqual(r.returncode, 4, r.stderr)
        j = json.loads(r.stdout)
        self.assertEqual((j["reflected"], j["p50_ms"], j["p99_ms"]), (0, None, None))
        # Swap whose saves all fail (no admin port there): no ratio, exit 3.
        r = subprocess.run([CLI, "--server", self.addr, "--admin_server", "127.0.0.1:1", "--json",
                            "bench", "swap", "--duration", "0.3", "--observe_rate", "1000",
                            "--candidates", "5"], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIsNone(json.loads(r.stdout)["p99_ratio"])
        # Candidates beyond the server's --max_candidates: its error, never a crash.
        for _ in range(3):
            r = run("predict", "--duration", "0.2", "--candidates", "5000")
            self.assertEqual(r.returncode, 4, r.stderr)
            self.assertIn("max_candidates", r.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
