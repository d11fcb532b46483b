#!/usr/bin/python3
"""SIGTERM with open ObserveStreams, through real processes (issue 10).

Usage: shutdown_test.py SERVER_BINARY CLI_BINARY STUBS_DIR
- `streamrec replay` of 50,000 events, the server SIGTERMed mid-way: the stream ends at
  once (not after --shutdown_grace_ms) with UNAVAILABLE; the CLI prints the acknowledged
  count and the first unacknowledged line (exit 3); the server logs the same count, and
  after a restart its persisted state holds exactly that many events; `replay
  --resume_from LINE --run_id RUN` (the hint) then completes the file, every event trained
  exactly once, even resumed 500 lines early (the server drops those as duplicates).
- A raw gRPC stream idle between requests ends at SIGTERM with UNAVAILABLE, an ErrorInfo
  SHUTTING_DOWN with a RetryInfo, and the counts in its message and trailing metadata.
"""
import json
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import grpc
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_harness import wait_ready  # noqa: E402
from server_log import ADMIN_ANY_PORT, listening_port  # noqa: E402

SERVER, CLI, STUBS = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, STUBS)
from streamrec.v1 import streamrec_pb2 as pb, streamrec_pb2_grpc  # noqa: E402
from google.rpc import error_details_pb2, status_pb2  # noqa: E402

EVENTS = 50000
GRACE_MS = 30000  # far longer than a stop with open streams needs


class ShutdownTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.events = os.path.join(cls.tmp.name, "events.tsv")
        r = subprocess.run([CLI, "generate", "--n", str(EVENTS), "--seed", "3", "--format",
                            "criteo", "--layout", "criteo", "--features", "5", "--output",
                            cls.events], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def start(self, data_dir, *flags):
        proc = subprocess.Popen([SERVER, "--listen=127.0.0.1:0", ADMIN_ANY_PORT, f"--data_dir={data_dir}",
                                 f"--shutdown_grace_ms={GRACE_MS}", *flags],
                                stderr=subprocess.PIPE, text=True)
        port = listening_port(proc)
        wait_ready(proc)
        return proc, f"127.0.0.1:{port}"

    def stop(self, proc):
        """SIGTERM; returns (seconds to exit, exit status, the log after "ready")."""
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=GRACE_MS / 1000 + 30)
        seconds = time.monotonic() - t0
        proc.drain.join(timeout=10)
        proc.stderr.close()
        return seconds, proc.returncode, "".join(proc.log)

    def cli(self, addr, *args):
        return subprocess.run([CLI, "--server", addr, *args], capture_output=True, text=True,
                              timeout=300)

    def stats(self, addr):
        r = self.cli(addr, "--json", "stats")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def last_seq(self, addr):
        r = self.cli(addr, "--json", "snapshots", "list")
        self.assertEqual(r.returncode, 0, r.stderr)
        return max(int(s.get("last_seq", 0)) for s in json.loads(r.stdout)["snapshots"])

    def test_replay_ended_by_sigterm_resumes_exactly(self):
        data = os.path.join(self.tmp.name, "replay_data")
        proc, addr = self.start(data)
        # 10,000 events/s: about 5 s for the file, so the stop lands mid-way.
        replay = subprocess.Popen([CLI, "--server", addr, "replay", self.events, "--rate",
                                   "10000", "--batch", "200", "--quiet"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while int(self.stats(addr).get("events_accepted", 0)) < 10000:
            self.assertLess(time.monotonic(), deadline, "the replay does not progress")
            time.sleep(0.05)
        seconds, status, log = self.stop(proc)
        out, err = replay.communicate(timeout=120)
        self.assertEqual(status, 0, log)
        # The stream was ended at once, not read on for the grace period.
        self.assertLess(seconds, 10, log)
        self.assertEqual(replay.returncode, 3, out + err)
        self.assertEqual(out, "")
        self.assertIn("streamrec: replay: the server is shutting down (UNAVAILABLE: the server "
                      "is shutting down;", err)
        self.assertNotIn("cannot reach", err)
        m = re.search(r"(\d+) of the (\d+) events sent were acknowledged; the first "
                      r"unacknowledged line is (.+):(\d+)\n", err)
        self.assertIsNotNone(m, err)
        acked, sent, where, line = int(m[1]), int(m[2]), m[3], int(m[4])
        self.assertEqual(where, self.events)
        self.assertTrue(10000 <= acked < EVENTS, err)
        self.assertGreaterEqual(sent, acked)
        self.assertEqual(line, acked + 1, err)  # criteo: one event per line, in order
        m = re.search(rf"streamrec --server {re.escape(addr)} replay {re.escape(self.events)} "
                      rf"--resume_from {line} --run_id ([0-9a-f]{{16}})\n", err)
        self.assertIsNotNone(m, err)
        run_id = m[1]
        self.assertIn(f"run id {run_id}; resume exactly with --run_id {run_id}", err)
        m = re.search(r"streams ended at stop streams=1 events_acknowledged=(\d+) ", log)
        self.assertIsNotNone(m, log)
        self.assertEqual(int(m[1]), acked, log)
        self.assertNotIn("streams cut at stop", log)

        # What the server persisted is exactly what the client saw acknowledged.
        proc, addr = self.start(data)
        try:
            self.assertEqual(self.last_seq(addr), acked)
            self.assertEqual(int(self.stats(addr).get("events_applied", 0)), acked)
            # Resume 500 lines early with the same run id: those were logged, and the
            # server drops them as duplicates (as after a crash that lost their acks).
            start = line - 500
            r = self.cli(addr, "--json", "replay", self.events, "--resume_from", str(start),
                         "--run_id", run_id, "--quiet")
            self.assertEqual(r.returncode, 0, r.stderr)
            summary = json.loads(r.stdout)
            self.assertEqual(summary["run_id"], run_id)
            self.assertEqual(summary["skipped_lines"], acked - 500)
            self.assertEqual(summary["events_sent"], EVENTS - acked + 500)
            self.assertEqual(summary["events_acknowledged"], EVENTS - acked + 500)
            self.assertEqual(summary["duplicates"], 500)
            self.assertEqual(int(self.stats(addr)["events_applied"]), EVENTS)
        finally:
            _, status, log = self.stop(proc)
        self.assertEqual(status, 0, log)
        self.assertIn("streams ended at stop streams=0 ", log)
        proc, addr = self.start(data)
        try:
            self.assertEqual(self.last_seq(addr), EVENTS)  # every event logged once
        finally:
            self.stop(proc)

    def test_resume_from_is_counted_in_the_readable_summary(self):
        with tempfile.TemporaryDirectory() as d:
            proc, addr = self.start(os.path.join(d, "data"))
            try:
                r = self.cli(addr, "replay", self.events, "--resume_from", str(EVENTS - 99),
                             "--quiet")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("replayed 100 events (100 acknowledged)", r.stdout)
                self.assertIn(f"skipped {EVENTS - 100} lines before line {EVENTS - 99} "
                              "(--resume_from)", r.stdout)
                r = self.cli(addr, "replay", self.events, "--resume_from", "0")
                self.assertEqual(r.returncode, 2, r.stderr)
            finally:
                self.stop(proc)

    def test_idle_stream_ends_with_reason_and_counts(self):
        with tempfile.TemporaryDirectory() as d:
            proc, addr = self.start(os.path.join(d, "data"))
            channel = grpc.insecure_channel(addr)
            stub = streamrec_pb2_grpc.RecommenderStub(channel)
            requests = queue.Queue()

            def gen():
                while True:
                    r = requests.get()
                    if r is None:
                        return
                    yield r
            call = stub.ObserveStream(gen())
            events = 0
            for n in (3, 5, 7):
                req = pb.ObserveRequest()
                for i in range(n):
                    e = req.events.add()
                    e.item.id = "A"
                    e.label = i % 2
                requests.put(req)
                self.assertEqual(next(call).accepted, n)
                events += n
            seconds, status, log = self.stop(proc)
            with self.assertRaises(grpc.RpcError) as caught:
                next(call)
            requests.put(None)
            error = caught.exception
            self.assertEqual(status, 0, log)
            self.assertLess(seconds, 10, log)
            self.assertEqual(error.code(), grpc.StatusCode.UNAVAILABLE, error.details())
            self.assertIn("the server is shutting down; 3 requests (15 events) of this stream "
                          "were acknowledged", error.details())
            trailers = dict(error.trailing_metadata() or ())
            self.assertEqual(trailers.get("streamrec-acknowledged-requests"), "3")
            self.assertEqual(trailers.get("streamrec-acknowledged-events"), "15")
            st = status_pb2.Status.FromString(trailers["grpc-status-details-bin"])
            info, retry = error_details_pb2.ErrorInfo(), error_details_pb2.RetryInfo()
            self.assertTrue(any(a.Unpack(info) for a in st.details
                                if a.Is(info.DESCRIPTOR)))
            self.assertEqual((info.reason, info.domain), ("SHUTTING_DOWN", "streamrec.v1"))
            self.assertTrue(any(a.Unpack(retry) for a in st.details
                                if a.Is(retry.DESCRIPTOR)))
            self.assertEqual(retry.retry_delay.seconds, 1)
            self.assertIn("streams ended at stop streams=1 events_acknowledged=15 "
                          "requests_acknowledged=3", log)
            channel.close()


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
