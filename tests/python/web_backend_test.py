#!/usr/bin/python3
"""Drives a real streamrec-server process from Python, as a web backend would.

Usage: web_backend_test.py SERVER_BINARY STUBS_DIR
Starts the server on an OS-chosen loopback port with a temporary data dir, then:
ranks candidates, reports clicks, polls GetStats until they are applied, checks that
the clicked item now ranks first, that bad input is INVALID_ARGUMENT naming the field,
that health and reflection answer, and that SIGTERM stops the server with exit 0.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import grpc
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_harness import wait_ready  # noqa: E402
from server_log import ADMIN_ANY_PORT, listening_port  # noqa: E402

SERVER, STUBS = sys.argv[1], sys.argv[2]
sys.path.insert(0, STUBS)
from streamrec.v1 import admin_pb2, admin_pb2_grpc  # noqa: E402
from streamrec.v1 import streamrec_pb2 as pb, streamrec_pb2_grpc  # noqa: E402
from google.rpc import error_details_pb2, status_pb2  # noqa: E402


def rpc_details(error):
    """The google.rpc.Status of a failed call, from its grpc-status-details-bin trailer,
    and its details unpacked by type name."""
    raw = dict(error.trailing_metadata() or ()).get("grpc-status-details-bin")
    if raw is None:
        return None, {}
    status = status_pb2.Status.FromString(raw)
    details = {}
    for any_detail in status.details:
        for cls in (error_details_pb2.BadRequest, error_details_pb2.ErrorInfo,
                    error_details_pb2.RetryInfo):
            if any_detail.Is(cls.DESCRIPTOR):
                m = cls()
                any_detail.Unpack(m)
                details[cls.DESCRIPTOR.name] = m
    return status, details


def start_server(data_dir):
    proc = subprocess.Popen(
        [SERVER, "--listen=127.0.0.1:0", ADMIN_ANY_PORT, f"--data_dir={data_dir}"],
        stderr=subprocess.PIPE, text=True)
    port = listening_port(proc)
    wait_ready(proc)
    return proc, port


def features(**kv):
    f = pb.Features()
    for k, v in kv.items():
        if isinstance(v, str):
            f.values[k].category = v
        elif isinstance(v, list):
            f.values[k].categories.values.extend(v)
        else:
            f.values[k].number = v
    return f


class WebBackendTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.proc, port = start_server(cls.tmp.name)
        cls.channel_target = f"127.0.0.1:{port}"
        cls.channel = grpc.insecure_channel(cls.channel_target)
        grpc.channel_ready_future(cls.channel).result(timeout=30)
        cls.rec = streamrec_pb2_grpc.RecommenderStub(cls.channel)
        cls.admin = admin_pb2_grpc.AdminStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        if cls.proc.poll() is None:
            cls.proc.kill()
        cls.tmp.cleanup()

    def predict(self, user, items):
        req = pb.PredictRequest(context=features(user=user, hour=0.5))
        for item in items:
            req.candidates.add(id=item, features=features(genres=["drama"]))
        return self.rec.Predict(req, timeout=10)

    def test_1_rank_click_learn(self):
        first = self.predict("alice", ["news", "sports"])
        self.assertEqual(len(first.items), 2)
        self.assertTrue(first.prediction_id)
        events = []
        for _ in range(300):
            for item, label in (("news", 0.0), ("sports", 1.0)):
                events.append(pb.Event(context=features(user="alice", hour=0.5),
                                       item=pb.Item(id=item, features=features(genres=["drama"])),
                                       label=label, prediction_id=first.prediction_id))
        ack = self.rec.Observe(pb.ObserveRequest(events=events), timeout=10)
        self.assertEqual(ack.accepted, 600)
        deadline = time.time() + 30
        while time.time() < deadline:
            info = self.admin.GetModelInfo(admin_pb2.GetModelInfoRequest(), timeout=10)
            if info.events_applied >= 600:
                break
            time.sleep(0.01)
        self.assertGreaterEqual(info.events_applied, 600)
        after = self.predict("alice", ["news", "sports"])
        self.assertEqual(after.items[0].id, "sports")
        self.assertEqual(after.items[0].index, 1)
        self.assertGreater(after.items[0].score, 0.9)
        self.assertGreater(after.model_version, first.model_version)
        stats = self.admin.GetStats(admin_pb2.GetStatsRequest(), timeout=10)
        self.assertEqual(stats.events_accepted, 600)
        self.assertGreater(stats.progressive.accuracy, 0.8)

    def test_2_bad_input_names_field(self):
        bad = pb.ObserveRequest(events=[pb.Event(item=pb.Item(id="x"))])  # no label
        with self.assertRaises(grpc.RpcError) as e:
            self.rec.Observe(bad, timeout=10)
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("events[0].label", e.exception.details())

    def test_2a_errors_carry_standard_details(self):
        # Three invalid events of four: one INVALID_ARGUMENT, a BadRequest naming each.
        bad = pb.ObserveRequest(events=[
            pb.Event(item=pb.Item(id="x"), label=2),
            pb.Event(item=pb.Item(id="x"), label=1),
            pb.Event(item=pb.Item(id="x"), label=1, weight=-1),
            pb.Event(label=0)])
        with self.assertRaises(grpc.RpcError) as e:
            self.rec.Observe(bad, timeout=10)
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(e.exception.details(),
                         "events[0].label: 2 is outside [0, 1] (and 2 more invalid events)")
        status, details = rpc_details(e.exception)
        self.assertEqual(status.code, grpc.StatusCode.INVALID_ARGUMENT.value[0])
        self.assertEqual(status.message, e.exception.details())
        self.assertEqual([(v.field, v.description)
                          for v in details["BadRequest"].field_violations],
                         [("events[0].label", "2 is outside [0, 1]"),
                          ("events[2].weight", "-1 is not a finite value >= 0"),
                          ("events[3].item", "required")])
        self.assertEqual((details["ErrorInfo"].reason, details["ErrorInfo"].domain),
                         ("INVALID_FIELD", "streamrec.v1"))
        self.assertNotIn("RetryInfo", details)
        # Bytes that are not a request: MALFORMED_REQUEST, no field to name.
        raw = self.channel.unary_unary("/streamrec.v1.Recommender/Observe",
                                       request_serializer=None, response_deserializer=None)
        with self.assertRaises(grpc.RpcError) as e:
            raw(b"\xff\xff\xff", timeout=10)
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        _, details = rpc_details(e.exception)
        self.assertEqual(details["ErrorInfo"].reason, "MALFORMED_REQUEST")
        self.assertNotIn("BadRequest", details)

    def test_2b_compressed_requests_are_refused_without_inflating(self):
        # Debian's gRPC inflates a compressed message before checking its size: a 300 KB
        # gzip request made the server allocate 600 MB. The server refuses compression.
        pid = self.proc.pid
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")  # reset the peak resident set

        def peak_kib():
            with open(f"/proc/{pid}/status") as f:
                return int(next(l for l in f if l.startswith("VmHWM:")).split()[1])
        before = peak_kib()
        event = pb.Event(item=pb.Item(id="x"), label=1,
                         context=pb.Features(values={"blob": pb.FeatureValue(category="a" * (64 << 20))}))
        bomb = pb.ObserveRequest(events=[event])
        with grpc.insecure_channel(self.channel_target, compression=grpc.Compression.Gzip,
                                   options=[("grpc.max_send_message_length", -1)]) as ch:
            with self.assertRaises(grpc.RpcError) as e:
                streamrec_pb2_grpc.RecommenderStub(ch).Observe(bomb, timeout=60)
        self.assertEqual(e.exception.code(), grpc.StatusCode.UNIMPLEMENTED, e.exception.details())
        self.assertIn("gzip", e.exception.details())
        self.assertLess(peak_kib() - before, 32 << 10)  # not the 64 MiB it inflates to

    def test_3_health_and_reflection(self):
        # Health and reflection called generically: their messages hand-encoded
        # (field 1 / field 7 = empty string), so no extra Python packages are needed.
        check = self.channel.unary_unary("/grpc.health.v1.Health/Check")
        for service in (b"", b"streamrec.v1.Recommender"):
            reply = check(b"\x0a" + bytes([len(service)]) + service, timeout=10)
            self.assertEqual(reply, b"\x08\x01")  # status: SERVING
        reflect = self.channel.stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")
        replies = list(reflect(iter([b"\x3a\x00"]), timeout=10))
        self.assertIn(b"streamrec.v1.Recommender", replies[0])
        self.assertIn(b"streamrec.v1.Admin", replies[0])

    def test_4_sigterm_stops_cleanly(self):
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=30), 0)
        self.proc.drain.join(timeout=30)
        self.assertIn("stopped", "".join(self.proc.log))


class IdempotentWritesTest(unittest.TestCase):
    def test_a_retried_observe_trains_once_also_after_a_restart(self):
        # De-duplication is on by default (--dedup_window 100000): a retry of events with
        # event_ids is acknowledged, reported as duplicates, and not trained again, also by
        # a restarted server (the log keeps the window's events through truncation).
        def events(prefix):
            return pb.ObserveRequest(events=[
                pb.Event(item=pb.Item(id="a"), label=1, event_id=f"{prefix}-{i}")
                for i in range(3)])

        def applied(admin, want):
            for _ in range(200):
                s = admin.GetStats(admin_pb2.GetStatsRequest(), timeout=10)
                if s.events_applied >= want:
                    return s
                time.sleep(0.02)
            return s

        with tempfile.TemporaryDirectory() as d:
            for run in range(2):
                proc, port = start_server(d)
                try:
                    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
                        rec = streamrec_pb2_grpc.RecommenderStub(ch)
                        admin = admin_pb2_grpc.AdminStub(ch)
                        if run == 0:
                            first = rec.Observe(events("r"), timeout=10)
                            self.assertEqual((first.accepted, first.duplicates), (3, 0))
                        again = rec.Observe(events("r"), timeout=10)
                        self.assertEqual((again.accepted, again.duplicates), (3, 3))
                        fresh = rec.Observe(events(f"new{run}"), timeout=10)
                        self.assertEqual((fresh.accepted, fresh.duplicates), (3, 0))
                        stats = applied(admin, 6 if run == 0 else 9)
                        self.assertEqual(stats.events_applied, 6 if run == 0 else 9)
                        self.assertEqual(stats.duplicates_dropped, 3)  # since this start
                finally:
                    proc.send_signal(signal.SIGTERM)
                    self.assertEqual(proc.wait(timeout=30), 0)


class QuickstartTest(unittest.TestCase):
    def test_the_readme_quickstart_runs_and_learns_the_click(self):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                              "examples", "python", "quickstart.py")
        with tempfile.TemporaryDirectory() as d:
            proc, port = start_server(d)
            try:
                r = subprocess.run([sys.executable, script, f"127.0.0.1:{port}"],
                                   env={**os.environ, "PYTHONPATH": STUBS},
                                   capture_output=True, text=True, timeout=60)
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        before, after = r.stdout.splitlines()
        self.assertTrue(before.startswith("before: [('m1', 0.5), ('m2', 0.5)]"), before)
        self.assertTrue(after.startswith("after:  [('m2', "), after)
        scores = dict(eval(after[len("after:"):]))  # [('m2', 0.9..), ('m1', 0.0..)]
        self.assertGreater(scores["m2"], 0.7)
        self.assertLess(scores["m1"], 0.3)  # shown and not clicked: learned too


class BadFlagsTest(unittest.TestCase):
    def run_server(self, *flags):
        with tempfile.TemporaryDirectory() as d:
            return subprocess.run([SERVER, "--listen=127.0.0.1:0", ADMIN_ANY_PORT, f"--data_dir={d}", *flags],
                                  capture_output=True, text=True, timeout=30)

    def test_bad_flags_exit_nonzero_with_message(self):
        cases = [(["--queue_capacity=0"], "queue_capacity"),
                 (["--publish_interval_ms=-5"], "publish_interval_ms"),
                 (["--no_such_flag=1"], "no_such_flag"),
                 (["--model_config=/nonexistent.textproto"], "nonexistent"),
                 (["--max_events_per_request=500", "--queue_capacity=100"],
                  "max_events_per_request")]
        for flags, word in cases:
            r = self.run_server(*flags)
            self.assertNotEqual(r.returncode, 0, flags)
            self.assertIn(word, r.stderr, flags)

    def test_bad_memory_and_stream_limits_exit_nonzero_with_message(self):
        cases = [(["--grpc_memory_bytes=0"], "--grpc_memory_bytes must be > 0"),
                 (["--grpc_memory_bytes=1000"],
                  "--grpc_memory_bytes must be at least --max_message_bytes"),
                 (["--max_concurrent_streams=0"], "--max_concurrent_streams must be > 0"),
                 (["--max_concurrent_streams=-3"], "--max_concurrent_streams must be > 0")]
        for flags, message in cases:
            r = self.run_server(*flags)
            self.assertEqual(r.returncode, 2, flags)
            self.assertIn(message, r.stderr, flags)

    def test_a_served_port_refuses_a_second_server(self):
        # gRPC's default SO_REUSEPORT let a second server bind a served port; traffic
        # then split silently between two models.
        with tempfile.TemporaryDirectory() as d:
            first, port = start_server(d)
            try:
                r = self.run_server(f"--listen=127.0.0.1:{port}")
                self.assertNotEqual(r.returncode, 0)
                self.assertIn(f"cannot listen on --listen 127.0.0.1:{port}: the port is in use",
                              r.stderr)
                self.assertIsNone(first.poll())
            finally:
                first.send_signal(signal.SIGTERM)
                self.assertEqual(first.wait(timeout=30), 0)

    def test_bad_model_config_names_field(self):
        with tempfile.NamedTemporaryFile("w", suffix=".textproto") as f:
            f.write("hash_bits: 40\n")
            f.flush()
            r = self.run_server(f"--model_config={f.name}")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("hash_bits", r.stderr)

    def test_bad_cross_names_it(self):
        for text, message in [("user", 'crosses[0]: cross "user" names fewer than two fields'),
                              ("a x b x *", '"*" is allowed in a pair only')]:
            with tempfile.NamedTemporaryFile("w", suffix=".textproto") as f:
                f.write(f'crosses: "{text}"\n')
                f.flush()
                r = self.run_server(f"--model_config={f.name}")
            self.assertNotEqual(r.returncode, 0, text)
            self.assertIn(message, r.stderr, text)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
