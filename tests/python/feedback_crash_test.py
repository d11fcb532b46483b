#!/usr/bin/python3
"""The feedback loop across a kill -9 (server/reward_join.h), with real processes.

Usage: feedback_crash_test.py SERVER_BINARY VERIFY_BINARY STUBS_DIR
Predict logs 60 impressions; label-only rewards for half of them are acknowledged; the
server is killed with SIGKILL in the middle of the join windows and restarted on the same
data dir. Then: every reward acknowledged before the kill is still joined (sent again it
is a duplicate), rewards for impressions logged before the kill still join, and once the
windows close every shown item without a reward gets exactly one default event. The
model trained exactly the acknowledged rewards plus the defaults, and an offline replay
of the log (streamrec-verify) reproduces it bit for bit.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import grpc
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crash_test import start  # noqa: E402

SERVER, VERIFY, STUBS = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, STUBS)
from streamrec.v1 import admin_pb2, admin_pb2_grpc  # noqa: E402
from streamrec.v1 import streamrec_pb2 as pb, streamrec_pb2_grpc  # noqa: E402

WINDOW_S = 6
SHOWN = 3        # top_k of each Predict
DEFAULT_K = 2    # --default_reward_top_k


def predict_request(j):
    req = pb.PredictRequest(top_k=SHOWN, log_impression=True)
    req.context.values["user"].category = f"u{j % 7}"
    for c in range(4):
        item = req.candidates.add(id=f"i{(j + c) % 11}")
        item.features.values["genre"].category = f"g{c}"
    return req


def reward(pid, item, n):
    return pb.Event(prediction_id=pid, item=pb.Item(id=item), label=1.0, event_id=f"r{n}")


class FeedbackCrashTest(unittest.TestCase):
    def test_kill_in_the_middle_of_the_windows(self):
        extra = (f"--join_window={WINDOW_S}s", f"--default_reward_top_k={DEFAULT_K}",
                 "--dedup_window=0")
        with tempfile.TemporaryDirectory() as d:
            proc, channel = start(d, 1, *extra)
            rec = streamrec_pb2_grpc.RecommenderStub(channel)
            shown = []
            for j in range(60):
                resp = rec.Predict(predict_request(j), timeout=30)
                self.assertTrue(resp.impression_logged)
                shown.append((resp.prediction_id, [i.id for i in resp.items]))
            rewarded = {}  # prediction id -> item
            first = [(pid, items[0]) for pid, items in shown[:30:2]]
            for n, (pid, item) in enumerate(first):
                r = rec.Observe(pb.ObserveRequest(events=[reward(pid, item, n)]), timeout=30)
                self.assertEqual(r.rewards_joined, 1)
                rewarded[pid] = item
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            proc.stderr.close()
            channel.close()

            proc, channel = start(d, 1, *extra)
            rec = streamrec_pb2_grpc.RecommenderStub(channel)
            admin = admin_pb2_grpc.AdminStub(channel)
            self.assertEqual(admin.GetStats(admin_pb2.GetStatsRequest(), timeout=30)
                             .feedback.impressions_live, 60)
            # Acknowledged before the kill: joined then, so now a duplicate.
            again = rec.Observe(pb.ObserveRequest(
                events=[reward(pid, item, 1000 + n) for n, (pid, item) in enumerate(first)]),
                timeout=30)
            self.assertEqual((again.rewards_joined, again.rewards_dropped), (0, len(first)))
            later = [(pid, items[1]) for pid, items in shown[31::2]]
            r = rec.Observe(pb.ObserveRequest(
                events=[reward(pid, item, 2000 + n) for n, (pid, item) in enumerate(later)]),
                timeout=30)
            self.assertEqual(r.rewards_joined, len(later))
            rewarded.update(later)
            # The windows close: one default per shown item (of the first DEFAULT_K)
            # without a reward.
            expected_defaults = sum(
                1 for pid, items in shown for item in items[:DEFAULT_K]
                if rewarded.get(pid) != item)
            deadline = time.time() + WINDOW_S + 30
            while time.time() < deadline:
                fb = admin.GetStats(admin_pb2.GetStatsRequest(), timeout=30).feedback
                if fb.impressions_live == 0:
                    break
                time.sleep(0.1)
            fb = admin.GetStats(admin_pb2.GetStatsRequest(), timeout=30).feedback
            self.assertEqual(fb.impressions_live, 0)
            self.assertEqual(fb.impressions_closed, 60)
            self.assertEqual(fb.defaults_emitted, expected_defaults)
            expected = len(rewarded) + expected_defaults
            deadline = time.time() + 30
            while time.time() < deadline:
                info = admin.GetModelInfo(admin_pb2.GetModelInfoRequest(), timeout=30)
                if info.events_applied >= expected:
                    break
                time.sleep(0.05)
            self.assertEqual(info.events_applied, expected)
            channel.close()
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=60), 0)
            proc.stderr.close()

            v = subprocess.run([VERIFY, "--data_dir", d], capture_output=True, text=True,
                               timeout=300)
            self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
            result = json.loads(v.stdout)
            self.assertEqual(result["logged_events"], expected)
            self.assertTrue(result["identical"])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
