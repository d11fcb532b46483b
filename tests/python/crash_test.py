#!/usr/bin/python3
"""Crash recovery with real processes: nothing acknowledged is lost.

Usage: crash_test.py SERVER_BINARY VERIFY_BINARY STUBS_DIR
For each kill point: start the server (durability async; a periodic snapshot every
second, or none), stream events with unique event_ids while recording every acknowledged
one, SIGKILL the server (after N acknowledged events, optionally only once a periodic
snapshot has been persisted, or between the chunks and the manifest of a snapshot),
restart it on the same data dir, and check that
  - every acknowledged event is in the log exactly once, and nothing that was not sent;
  - the restarted server applied every logged event (events_applied == logged);
  - after a clean stop, its model is bit-identical to an offline replay of the log from
    scratch (streamrec-verify).
A DNN scenario streams with pauses, so the server flushes partial batches through markers
in the log (--flush_partial_batch_ms), before and after the kill: the offline replay cuts
the same batches at the markers.
"""
import itertools
import json
import os
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
from server_log import ADMIN_ANY_PORT, listening_port  # noqa: E402

SERVER, VERIFY, STUBS = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, STUBS)
from streamrec.v1 import admin_pb2, admin_pb2_grpc  # noqa: E402
from streamrec.v1 import streamrec_pb2 as pb, streamrec_pb2_grpc  # noqa: E402


def start(data_dir, persist_interval_s, *extra):
    proc = subprocess.Popen(
        [SERVER, "--listen=127.0.0.1:0", ADMIN_ANY_PORT, f"--data_dir={data_dir}", "--durability=async",
         f"--persist_interval_s={persist_interval_s}", "--snapshots_retained=100000", *extra],
        stderr=subprocess.PIPE, text=True)
    proc.log = []
    port = listening_port(proc, proc.log)
    # Keep reading the log (a server blocked on a full stderr pipe would look hung).
    proc.drain = threading.Thread(target=lambda: proc.log.extend(proc.stderr), daemon=True)
    proc.drain.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    check = channel.unary_unary("/grpc.health.v1.Health/Check")
    deadline = time.time() + 60
    while time.time() < deadline:  # readiness: Recommender SERVING after recovery
        try:
            if check(b"\x0a\x18streamrec.v1.Recommender", timeout=5) == b"\x08\x01":
                return proc, channel
        except grpc.RpcError:
            pass
        time.sleep(0.05)
    raise AssertionError("server never became ready")


def event(i, ident):
    return pb.Event(context=pb.Features(values={"user": pb.FeatureValue(category=f"u{i % 97}")}),
                    item=pb.Item(id=f"i{i % 31}"), label=float((i * 7) % 3 == 0), event_id=ident)


class CrashTest(unittest.TestCase):
    def scenario(self, name, kill_after_acked=None, kill_after_persist=False,
                 persist_interval_s=1, extra=(), restart_extra=(), pause_every=0):
        """Kills after `kill_after_acked` acknowledged events and, with
        `kill_after_persist`, once the server reports a snapshot after snapshot 0
        persisted (or by --testing_kill_during_persist in `extra`). With `pause_every`,
        the stream pauses 0.3 s after every that many requests. Returns the acknowledged
        and logged counts, the restored version, the first log and verify's result."""
        with tempfile.TemporaryDirectory() as d:
            proc, channel = start(d, persist_interval_s, *extra)
            rec = streamrec_pb2_grpc.RecommenderStub(channel)
            admin = admin_pb2_grpc.AdminStub(channel)
            sent, per_request, acked = set(), [], []
            max_version_seen = 0
            persisted = False  # a snapshot after snapshot 0 is on disk

            def requests():
                for r in itertools.count():
                    if pause_every and r and r % pause_every == 0:
                        time.sleep(0.3)  # a quiet spell: a mini-batch model flushes
                    ids = [f"{name}-{r}-{k}" for k in range(50)]
                    sent.update(ids)
                    per_request.append(ids)
                    yield pb.ObserveRequest(
                        events=[event(r * 50 + k, x) for k, x in enumerate(ids)])

            try:
                for n, resp in enumerate(rec.ObserveStream(requests())):
                    self.assertEqual(resp.accepted, 50)
                    acked.extend(per_request[n])
                    due = bool(kill_after_acked) and len(acked) >= kill_after_acked
                    if n % 20 == 0 or (due and kill_after_persist):
                        stats = admin.GetStats(admin_pb2.GetStatsRequest(), timeout=10)
                        max_version_seen = max(max_version_seen, stats.model_version)
                        persisted = stats.persisted_version > 0
                    if due and (persisted or not kill_after_persist):
                        os.kill(proc.pid, signal.SIGKILL)
                        break
            except grpc.RpcError:
                pass  # the server died under the stream (kill during persist)
            self.assertEqual(proc.wait(timeout=60), -signal.SIGKILL)
            proc.drain.join(timeout=30)
            first_log = "".join(proc.log)
            proc.stderr.close()
            channel.close()
            self.assertGreater(len(acked), 0)

            proc, channel = start(d, persist_interval_s, *restart_extra)
            stats = admin_pb2_grpc.AdminStub(channel).GetStats(admin_pb2.GetStatsRequest(),
                                                               timeout=30)
            # Versions never go backwards across the crash.
            self.assertGreaterEqual(stats.model_version, max_version_seen)
            channel.close()
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=60), 0)
            proc.drain.join(timeout=30)
            second_log = "".join(proc.log)
            proc.stderr.close()

            ids_file = os.path.join(d, "ids.txt")
            v = subprocess.run([VERIFY, "--data_dir", d, "--event_ids", ids_file],
                               capture_output=True, text=True, timeout=300)
            self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
            result = json.loads(v.stdout)
            with open(ids_file) as f:
                logged = f.read().split()
            self.assertEqual(len(logged), len(set(logged)), "an event was logged twice")
            self.assertTrue(set(acked) <= set(logged), "an acknowledged event was lost")
            self.assertTrue(set(logged) <= sent, "an event that was never sent was applied")
            self.assertEqual(stats.events_applied, len(logged))
            self.assertEqual(result["logged_events"], len(logged))
            self.assertTrue(result["identical"])
            # A clean stop wrote the model as of the log's last event.
            self.assertEqual(result["events_after_snapshot"], 0, result)
            self.assertEqual(result["snapshot_last_seq"], result["last_seq"], result)
            restored = re.search(r"snapshot restored version=(\d+)", second_log)
            self.assertIsNotNone(restored, second_log)
            return len(acked), len(logged), int(restored.group(1)), first_log, result

    def test_kill_early(self):
        # No periodic snapshots (--persist_interval_s=0), so the only snapshot is
        # snapshot 0: recovery is snapshot 0 plus the whole log, whatever the timing.
        acked, logged, restored, _, _ = self.scenario("early", kill_after_acked=2000,
                                                   persist_interval_s=0)
        self.assertGreaterEqual(logged, acked)
        self.assertEqual(restored, 0)

    def test_kill_after_snapshots(self):
        # Killed only once the server reports a periodic snapshot persisted (one every
        # second): recovery is that snapshot (or a later one) plus the log tail.
        acked, logged, restored, _, _ = self.scenario("late", kill_after_acked=20000,
                                                   kill_after_persist=True)
        self.assertGreater(restored, 0)

    def test_kill_during_snapshot_persistence(self):
        # Snapshot 0 is persisted at start; die between the chunks and the manifest of
        # the next one, while the stream is running: that snapshot must not be visible.
        acked, logged, restored, first_log, _ = self.scenario(
            "persist", extra=("--testing_kill_during_persist=2",))
        self.assertIn("--testing_kill_during_persist: SIGKILL", first_log)
        self.assertEqual(restored, 0)

    def test_dnn_flushed_partial_batches_survive_a_kill(self):
        # A DNN in batches of 64 fed 50 events a request, pausing every 3 requests: each
        # pause flushes the partial batch through a marker in the log (50 ms idle), the
        # kill leaves events pending, the restart replays them (cutting at the markers),
        # and the clean stop flushes the rest. streamrec-verify replays the whole log
        # from scratch, cutting the same batches, and must match the final snapshot.
        with tempfile.NamedTemporaryFile("w", suffix=".textproto", delete=False) as f:
            f.write('kind: DNN hash_bits: 12 '
                    'dnn { embedding_dim: 4 hidden: 16 hidden: 8 batch_size: 64 '
                    'fields: "user" }\n')
            config = f.name
        try:
            flags = (f"--model_config={config}", "--flush_partial_batch_ms=50")
            acked, logged, restored, _, result = self.scenario(
                "dnn", kill_after_acked=1500, extra=flags, restart_extra=flags, pause_every=3)
        finally:
            os.unlink(config)
        self.assertGreaterEqual(logged, acked)
        self.assertGreater(result["flush_markers"], 1, result)
        # Sequence numbers count the markers too.
        self.assertEqual(result["last_seq"], logged + result["flush_markers"], result)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
