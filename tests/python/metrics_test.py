#!/usr/bin/python3
"""The Prometheus endpoint of a real streamrec-server (README "Metrics").

Usage: metrics_test.py SERVER_BINARY STUBS_DIR
Starts the server with gRPC and metrics on OS-chosen loopback ports and a temporary data
dir, makes known traffic (Predicts, Observes with a duplicated and an invalid request, a
malformed request, a snapshot save), scrapes GET /metrics over HTTP and parses it with
prometheus_client's exposition-format parser (Debian's python3-prometheus-client). Checks
that every documented metric is there with its type, and that the counts match the
calls made (exactly, where the traffic determines them). Then: other paths are 404, an
empty --metrics_listen disables the endpoint, and a metrics port in use is refused at
start.
"""
import gzip
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import grpc
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_harness import wait_ready  # noqa: E402
from server_log import ADMIN_ANY_PORT, startup_record  # noqa: E402

SERVER, STUBS = sys.argv[1], sys.argv[2]
sys.path.insert(0, STUBS)
from streamrec.v1 import admin_pb2, admin_pb2_grpc  # noqa: E402
from streamrec.v1 import streamrec_pb2 as pb, streamrec_pb2_grpc  # noqa: E402

QUEUE_CAPACITY = 5000
N_PREDICT, CANDIDATES = 7, 3
N_OBSERVE, EVENTS_PER_OBSERVE = 4, 5

# Every metric family the server documents, as the parser names it (a counter's family
# drops the _total suffix its samples carry), with its type.
FAMILIES = {
    "streamrec_build_info": "gauge",
    "streamrec_ready": "gauge",
    "streamrec_grpc_requests": "counter",
    "streamrec_grpc_request_duration_seconds": "histogram",
    "streamrec_events_received": "counter",
    "streamrec_events_accepted": "counter",
    "streamrec_events_applied": "counter",
    "streamrec_events_rejected": "counter",
    "streamrec_events_deduplicated": "counter",
    "streamrec_requests_malformed": "counter",
    "streamrec_updates_skipped_nonfinite": "counter",
    "streamrec_candidates_scored": "counter",
    "streamrec_observe_streams_open": "gauge",
    "streamrec_observe_streams_rejected": "counter",
    "streamrec_queue_depth_events": "gauge",
    "streamrec_queue_capacity_events": "gauge",
    "streamrec_queue_bytes": "gauge",
    "streamrec_queue_capacity_bytes": "gauge",
    "streamrec_updater_batch_duration_seconds": "histogram",
    "streamrec_publications": "counter",
    "streamrec_publish_duration_seconds": "histogram",
    "streamrec_publish_bytes": "counter",
    "streamrec_observe_to_serve_seconds": "histogram",
    "streamrec_model_version": "gauge",
    "streamrec_persisted_version": "gauge",
    "streamrec_log_last_seq": "gauge",
    "streamrec_snapshots_persisted": "counter",
    "streamrec_persist_failures": "counter",
    "streamrec_persist_capture_duration_seconds": "histogram",
    "streamrec_persist_write_duration_seconds": "histogram",
    "streamrec_persist_bytes": "counter",
    "streamrec_progressive_logloss": "gauge",
    "streamrec_progressive_auc": "gauge",
    "streamrec_progressive_normalized_entropy": "gauge",
    "streamrec_progressive_calibration": "gauge",
    "streamrec_progressive_events": "gauge",
    "streamrec_storage_writable": "gauge",
    "streamrec_storage_recoveries": "counter",
    "streamrec_wal_syncs": "counter",
    "streamrec_log_bytes": "gauge",
    "streamrec_rocksdb_live_data_bytes": "gauge",
    "streamrec_rocksdb_pending_compaction_bytes": "gauge",
    "streamrec_rocksdb_sst_files_bytes": "gauge",
    "streamrec_rocksdb_memtable_bytes": "gauge",
    "process_cpu_seconds": "counter",
    "process_resident_memory_bytes": "gauge",
    "process_virtual_memory_bytes": "gauge",
    "process_start_time_seconds": "gauge",
    "process_open_fds": "gauge",
    "process_max_fds": "gauge",
    "process_threads": "gauge",
}


def start(data_dir, *flags):
    proc = subprocess.Popen([SERVER, "--listen=127.0.0.1:0", ADMIN_ANY_PORT,
                             f"--data_dir={data_dir}", *flags],
                            stderr=subprocess.PIPE, text=True)
    record = startup_record(proc)
    wait_ready(proc)
    return proc, record["listeners"]


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=30)


def scrape(address, path="/metrics"):
    with urllib.request.urlopen(f"http://{address}{path}", timeout=10) as r:
        return r.headers.get("Content-Type"), r.read().decode("utf-8")


class Page:
    """A parsed /metrics page: families by name, and a sample's value by name + labels."""

    def __init__(self, text):
        self.families = {f.name: f for f in text_string_to_metric_families(text)}

    def value(self, sample_name, **labels):
        family = None
        for f in self.families.values():
            if sample_name.startswith(f.name):
                for s in f.samples:
                    if s.name == sample_name and all(s.labels.get(k) == v
                                                      for k, v in labels.items()):
                        if family is not None:
                            raise AssertionError(f"{sample_name} {labels}: not unique")
                        family = s.value
        if family is None:
            raise KeyError(f"{sample_name} {labels}")
        return family

    def histogram(self, name, **labels):
        """(count, sum, [(le, cumulative count)]) of one histogram series."""
        buckets = [(s.labels["le"], s.value) for s in self.families[name].samples
                   if s.name == name + "_bucket"
                   and all(s.labels.get(k) == v for k, v in labels.items())]
        return (self.value(name + "_count", **labels), self.value(name + "_sum", **labels),
                buckets)


def features(**kv):
    f = pb.Features()
    for k, v in kv.items():
        f.values[k].category = v
    return f


class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.started = time.time()
        cls.tmp = tempfile.TemporaryDirectory()
        cls.proc, listeners = start(cls.tmp.name, "--metrics_listen=127.0.0.1:0",
                                    f"--queue_capacity={QUEUE_CAPACITY}",
                                    f"--max_events_per_request={QUEUE_CAPACITY}")
        cls.metrics = listeners["metrics"]
        cls.channel = grpc.insecure_channel(listeners["grpc"])
        cls.rec = streamrec_pb2_grpc.RecommenderStub(cls.channel)
        cls.admin = admin_pb2_grpc.AdminStub(cls.channel)
        # The methods that change or copy the model are on the admin port (counted too).
        cls.admin_channel = grpc.insecure_channel(listeners["admin"])
        cls.admin_port = admin_pb2_grpc.AdminStub(cls.admin_channel)
        cls.get_stats_calls = 0
        cls.traffic()
        cls.page = cls.wait_for_page()
        cls.get_stats_before_scrape = cls.get_stats_calls

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.admin_channel.close()
        if cls.proc.poll() is None:
            stop(cls.proc)
        cls.tmp.cleanup()

    @classmethod
    def stats(cls):
        cls.get_stats_calls += 1
        return cls.admin.GetStats(admin_pb2.GetStatsRequest(), timeout=10)

    @classmethod
    def traffic(cls):
        for i in range(N_PREDICT):
            req = pb.PredictRequest(context=features(user=f"u{i}"))
            for c in range(CANDIDATES):
                req.candidates.add(id=f"item{c}")
            cls.rec.Predict(req, timeout=10)
        # Invalid: no candidates. Malformed: bytes that are no PredictRequest.
        for call in (lambda: cls.rec.Predict(pb.PredictRequest(), timeout=10),
                     lambda: cls.channel.unary_unary("/streamrec.v1.Recommender/Predict")(
                         b"\xff\xff\xff", timeout=10)):
            try:
                call()
                raise AssertionError("a bad Predict was answered")
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e
        requests = []
        for r in range(N_OBSERVE):
            requests.append(pb.ObserveRequest(events=[
                pb.Event(context=features(user=f"u{e}"), item=pb.Item(id=f"item{e % 3}"),
                         label=float(e % 2), event_id=f"r{r}-e{e}")
                for e in range(EVENTS_PER_OBSERVE)]))
            ack = cls.rec.Observe(requests[-1], timeout=10)
            assert ack.accepted == EVENTS_PER_OBSERVE and ack.duplicates == 0, ack
        ack = cls.rec.Observe(requests[0], timeout=10)  # a retry: every event a duplicate
        assert (ack.accepted, ack.duplicates) == (EVENTS_PER_OBSERVE, EVENTS_PER_OBSERVE), ack
        try:  # two events without a label: both rejected
            cls.rec.Observe(pb.ObserveRequest(events=[pb.Event(item=pb.Item(id="x"))] * 2),
                            timeout=10)
            raise AssertionError("an invalid Observe was accepted")
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e
        deadline = time.time() + 20
        while cls.stats().events_applied < N_OBSERVE * EVENTS_PER_OBSERVE:
            assert time.time() < deadline, "events not applied"
            time.sleep(0.02)
        cls.saved = cls.admin_port.SaveSnapshot(admin_pb2.SaveSnapshotRequest(), timeout=30)

    @classmethod
    def wait_for_page(cls):
        # The events are trained; their publication (and so freshness) follows within a
        # publish interval.
        deadline = time.time() + 20
        while True:
            content_type, text = scrape(cls.metrics)
            page = Page(text)
            freshness = page.value("streamrec_observe_to_serve_seconds_count")
            if freshness >= N_OBSERVE * EVENTS_PER_OBSERVE or time.time() > deadline:
                cls.content_type = content_type
                return page
            time.sleep(0.05)

    def test_every_metric_is_there_with_its_type(self):
        for name, kind in FAMILIES.items():
            self.assertIn(name, self.page.families, name)
            self.assertEqual(self.page.families[name].type, kind, name)
        self.assertTrue(self.content_type.startswith("text/plain; version=0.0.4"),
                        self.content_type)

    def test_requests_by_rpc_and_code_match_the_calls(self):
        v = self.page.value
        rec = dict(service="streamrec.v1.Recommender")
        self.assertEqual(v("streamrec_grpc_requests_total", method="Predict", code="OK", **rec),
                         N_PREDICT)
        self.assertEqual(v("streamrec_grpc_requests_total", method="Predict",
                           code="INVALID_ARGUMENT", **rec), 2)
        self.assertEqual(v("streamrec_grpc_requests_total", method="Observe", code="OK", **rec),
                         N_OBSERVE + 1)
        self.assertEqual(v("streamrec_grpc_requests_total", method="Observe",
                           code="INVALID_ARGUMENT", **rec), 1)
        admin = dict(service="streamrec.v1.Admin")
        self.assertEqual(v("streamrec_grpc_requests_total", method="GetStats", code="OK", **admin),
                         self.get_stats_before_scrape)
        self.assertEqual(v("streamrec_grpc_requests_total", method="SaveSnapshot", code="OK",
                           **admin), 1)
        self.assertEqual(v("streamrec_grpc_requests_total", method="ObserveStream", code="OK",
                           **rec), 0)
        # Each method's latency histogram counts its calls; buckets are cumulative.
        for method, calls in (("Predict", N_PREDICT + 2), ("Observe", N_OBSERVE + 2),
                              ("ObserveStream", 0)):
            count, total, buckets = self.page.histogram(
                "streamrec_grpc_request_duration_seconds", method=method, **rec)
            self.assertEqual(count, calls, method)
            self.assertEqual(buckets[-1], ("+Inf", calls))
            self.assertEqual([b[0] for b in buckets[:2]], ["5e-05", "1e-04"])
            self.assertEqual(float(buckets[-2][0]), 10.0)
            self.assertEqual([b[1] for b in buckets], sorted(b[1] for b in buckets))
            self.assertGreaterEqual(total, 0)
            if calls:
                self.assertLess(total / calls, 5.0)

    def test_event_counters_match_the_observes(self):
        v = self.page.value
        accepted = (N_OBSERVE + 1) * EVENTS_PER_OBSERVE
        self.assertEqual(v("streamrec_events_received_total"), accepted + 2)
        self.assertEqual(v("streamrec_events_accepted_total"), accepted)
        self.assertEqual(v("streamrec_events_applied_total"), N_OBSERVE * EVENTS_PER_OBSERVE)
        self.assertEqual(v("streamrec_events_deduplicated_total"), EVENTS_PER_OBSERVE)
        self.assertEqual(v("streamrec_events_rejected_total", reason="invalid_argument"), 2)
        self.assertEqual(v("streamrec_events_rejected_total", reason="queue_full"), 0)
        self.assertEqual(v("streamrec_requests_malformed_total"), 1)
        self.assertEqual(v("streamrec_candidates_scored_total"), N_PREDICT * CANDIDATES)
        self.assertEqual(v("streamrec_observe_streams_open"), 0)
        self.assertEqual(v("streamrec_queue_depth_events"), 0)
        self.assertEqual(v("streamrec_queue_capacity_events"), QUEUE_CAPACITY)
        self.assertGreater(v("streamrec_queue_capacity_bytes"), 0)
        self.assertEqual(v("streamrec_log_last_seq"), N_OBSERVE * EVENTS_PER_OBSERVE)

    def test_updater_publication_and_persistence(self):
        v, h = self.page.value, self.page.histogram
        batches = h("streamrec_updater_batch_duration_seconds")[0]
        self.assertGreaterEqual(batches, N_OBSERVE)  # one per logged request at most
        self.assertLessEqual(batches, N_OBSERVE + 1)
        publications = v("streamrec_publications_total")
        self.assertGreaterEqual(publications, 1)
        self.assertEqual(h("streamrec_publish_duration_seconds")[0], publications)
        self.assertGreater(v("streamrec_publish_bytes_total"), 0)
        # Freshness: one observation per trained event.
        count, total, _ = h("streamrec_observe_to_serve_seconds")
        self.assertEqual(count, N_OBSERVE * EVENTS_PER_OBSERVE)
        self.assertGreater(total, 0)
        self.assertGreaterEqual(v("streamrec_model_version"), 1)
        self.assertEqual(v("streamrec_persisted_version"), self.saved.model_version)
        self.assertGreaterEqual(v("streamrec_snapshots_persisted_total"), 1)
        self.assertEqual(v("streamrec_persist_failures_total"), 0)
        self.assertGreaterEqual(h("streamrec_persist_capture_duration_seconds")[0], 1)
        self.assertEqual(h("streamrec_persist_write_duration_seconds")[0],
                         v("streamrec_snapshots_persisted_total"))
        self.assertGreater(v("streamrec_persist_bytes_total"), 0)
        self.assertEqual(v("streamrec_storage_writable"), 1)
        self.assertEqual(v("streamrec_ready"), 1)
        self.assertGreater(v("streamrec_rocksdb_memtable_bytes"), 0)
        for name in ("live_data", "pending_compaction", "sst_files"):
            self.assertGreaterEqual(v(f"streamrec_rocksdb_{name}_bytes"), 0)

    def test_gauges_agree_with_get_stats(self):
        stats = self.stats()  # no traffic since the scrape: the same figures
        v = self.page.value
        self.assertEqual(v("streamrec_model_version"), stats.model_version)
        self.assertEqual(v("streamrec_publications_total"), stats.publications)
        for scope, p in (("overall", stats.progressive), ("window", stats.progressive_window)):
            self.assertEqual(v("streamrec_progressive_events", scope=scope), p.events)
            self.assertAlmostEqual(v("streamrec_progressive_logloss", scope=scope), p.logloss,
                                   places=12)
            self.assertAlmostEqual(v("streamrec_progressive_auc", scope=scope), p.auc, places=12)
            self.assertAlmostEqual(v("streamrec_progressive_normalized_entropy", scope=scope),
                                   p.normalized_entropy, places=12)
            self.assertAlmostEqual(v("streamrec_progressive_calibration", scope=scope),
                                   p.calibration, places=12)
        self.assertEqual(v("streamrec_progressive_events", scope="overall"),
                         N_OBSERVE * EVENTS_PER_OBSERVE)

    def test_process_metrics_describe_the_server(self):
        v = self.page.value
        pid = self.proc.pid
        self.assertGreater(v("process_resident_memory_bytes"), 1 << 20)
        self.assertGreaterEqual(v("process_virtual_memory_bytes"),
                                v("process_resident_memory_bytes"))
        self.assertGreater(v("process_cpu_seconds_total"), 0)
        self.assertGreater(v("process_threads"), 2)
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        self.assertLess(abs(v("process_open_fds") - fds), 10)
        self.assertGreater(v("process_max_fds"), v("process_open_fds"))
        self.assertGreater(v("process_start_time_seconds"), self.started - 5)
        self.assertLess(v("process_start_time_seconds"), time.time())

    def test_gzip_when_the_scraper_asks(self):
        # README: "gzip when the scraper asks for it"; the same page either way.
        req = urllib.request.Request(f"http://{self.metrics}/metrics",
                                     headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.headers.get("Content-Encoding"), "gzip")
            text = gzip.decompress(r.read()).decode("utf-8")
        self.assertIn("streamrec_build_info", Page(text).families)

    def test_only_metrics_is_served(self):
        for path in ("/", "/healthz", "/metricsx"):
            with self.assertRaises(urllib.error.HTTPError) as e:
                scrape(self.metrics, path)
            self.assertEqual(e.exception.code, 404, path)

    def test_an_empty_address_disables_the_endpoint(self):
        with tempfile.TemporaryDirectory() as d:
            proc, listeners = start(d, "--metrics_listen=")
            try:
                self.assertNotIn("metrics", listeners)
                self.assertIn("grpc", listeners)
            finally:
                self.assertEqual(stop(proc), 0)

    def test_a_metrics_port_in_use_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run([SERVER, "--listen=127.0.0.1:0", ADMIN_ANY_PORT, f"--data_dir={d}",
                                f"--metrics_listen={self.metrics}"],
                               stderr=subprocess.PIPE, text=True, timeout=60)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("cannot listen on --metrics_listen", r.stderr)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
