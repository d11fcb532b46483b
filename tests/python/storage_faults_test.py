#!/usr/bin/python3
"""Storage faults, through real server processes (issue 7, items 2, 4 and 12).

Usage: storage_faults_test.py SERVER CLI DATADIR_TOOL STUBS_DIR
  - a data dir whose snapshots all fail verification, or whose manifests are all
    unreadable, is refused at start (exit 2, a message naming the snapshots) instead of
    served as if new, and no chunk is deleted; --accept_data_loss starts it;
  - SIGTERM during the startup replay of a long log stops the process promptly, and the
    next start replays everything;
  - a real full file system (a small tmpfs in a private mount namespace): Observe is
    UNAVAILABLE and ingest health NOT_SERVING while Predict stays SERVING; after space
    is freed the server recovers by itself; a clean stop and restart keep every
    acknowledged event.
"""
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

SERVER, CLI, TOOL, STUBS = sys.argv[1:5]
sys.path.insert(0, STUBS)
import grpc  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_log import ADMIN_ANY_PORT, admin_flags, is_ready, listening_port  # noqa: E402
from streamrec.v1 import streamrec_pb2 as pb, streamrec_pb2_grpc  # noqa: E402


def start(data_dir, *flags):
    """Starts a server; returns (process, address) once it listens."""
    proc = subprocess.Popen([SERVER, "--listen=127.0.0.1:0", ADMIN_ANY_PORT, f"--data_dir={data_dir}",
                             *flags],
                            stderr=subprocess.PIPE, text=True)
    return proc, f"127.0.0.1:{listening_port(proc)}"


def wait_ready(proc):
    """Reads the log until the server is ready, then keeps draining it in the background
    (a server blocked on a full stderr pipe would look hung)."""
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if is_ready(line):
            proc.log = lines
            proc.drain = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
            proc.drain.start()
            return "".join(lines)
    raise AssertionError("server exited before it was ready:\n" + "".join(lines))


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=60)
    proc.drain.join(timeout=10)
    proc.stderr.close()
    return code, "".join(proc.log)


def cli(addr, *args):
    return subprocess.run([CLI, "--server", addr, *admin_flags(addr), *args], capture_output=True, text=True,
                          timeout=300)


def stats(addr):
    r = cli(addr, "--json", "stats")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def health(addr):
    return json.loads(cli(addr, "--json", "health").stdout)


def observe(stub, user, n):
    req = pb.ObserveRequest(events=[
        pb.Event(context=pb.Features(values={"user": pb.FeatureValue(category=f"{user}{i % 7}")}),
                 item=pb.Item(id=f"i{i % 13}"), label=float(i % 3 == 0)) for i in range(n)])
    return stub.Observe(req, timeout=30)


def run_to_exit(data_dir, *flags):
    return subprocess.run([SERVER, "--listen=127.0.0.1:0", ADMIN_ANY_PORT, f"--data_dir={data_dir}",
                           *flags],
                          capture_output=True, text=True, timeout=120)


class StorageFaultsTest(unittest.TestCase):
    def prepare(self, d, saves=3):
        """A data dir with `saves` snapshots of 500 events each after snapshot 0, then 500
        events more in the final snapshot of a clean stop; the newest two snapshots are
        retained, and the log after the older of them (the last 500 events; no
        de-duplication window keeps more)."""
        proc, addr = start(d, "--persist_interval_s=0", "--snapshots_retained=2",
                           "--dedup_window=0")
        wait_ready(proc)
        stub = streamrec_pb2_grpc.RecommenderStub(grpc.insecure_channel(addr))
        for s in range(saves):
            observe(stub, f"u{s}-", 500)
            self.assertEqual(cli(addr, "snapshots", "save").returncode, 0)
        observe(stub, "last-", 500)
        self.assertEqual(stop(proc)[0], 0)
        return 500 * (saves + 1)

    def test_refuses_when_no_snapshot_verifies(self):
        with tempfile.TemporaryDirectory() as d:
            events = self.prepare(d)
            r = subprocess.run([TOOL, "corrupt-shared-chunks", d], capture_output=True,
                               text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertGreater(int(r.stdout), 0)
            chunks = subprocess.run([TOOL, "count-chunks", d], capture_output=True, text=True)
            r = run_to_exit(d)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("none verifies", r.stderr)
            self.assertIn("--accept_data_loss", r.stderr)
            for v in re.findall(r"restored|replaying", r.stderr):
                self.fail("it must not start serving: " + r.stderr)
            after = subprocess.run([TOOL, "count-chunks", d], capture_output=True, text=True)
            self.assertEqual(after.stdout, chunks.stdout)  # nothing deleted
            # The operator's explicit choice: an empty model plus every event still logged
            # (those after the older retained snapshot: the last 500). The damaged
            # snapshots must not hold the log's truncation point meanwhile (they did: the
            # newer one's end truncated the log before it was replayed, and 0 were left).
            proc, addr = start(d, "--accept_data_loss", "--snapshots_retained=2",
                               "--dedup_window=0")
            self.addCleanup(proc.kill)
            log = wait_ready(proc)
            self.assertIn("replaying the event log events=500 ", log)
            self.assertEqual(int(stats(addr).get("events_applied", 0)), 500)
            self.assertLess(500, events)
            listed = cli(addr, "--json", "snapshots", "list")
            self.assertEqual(len(json.loads(listed.stdout)["snapshots"]), 1, listed.stdout)
            # The result is a healthy data dir, even after a crash before any further
            # snapshot: a start without the flag finds no gap between the snapshot taken
            # at the accepting start and the log.
            proc.kill()
            proc.wait()
            proc, addr = start(d, "--dedup_window=0")
            self.addCleanup(proc.kill)
            wait_ready(proc)
            self.assertEqual(int(stats(addr)["events_applied"]), 500)
            self.assertEqual(stop(proc)[0], 0)

    def test_a_rollback_cut_by_a_crash_is_never_served_and_versions_never_go_back(self):
        # The process dies between the chunks and the manifest of the rollback's snapshot.
        # A swap writes its snapshot before it publishes, so no client can have seen the
        # rolled-back model, and the restart serves the state and version from before the
        # rollback. (Before, the rollback published first: a client saw version V, and
        # the restart served V - 1: the version went backwards, then V named another
        # state.)
        with tempfile.TemporaryDirectory() as d:
            # Persists: 1 snapshot 0 at start, 2 the save below, 3 the rollback's.
            proc, addr = start(d, "--persist_interval_s=0", "--testing_kill_during_persist=3")
            wait_ready(proc)
            stub = streamrec_pb2_grpc.RecommenderStub(grpc.insecure_channel(addr))
            observe(stub, "a", 50)
            saved = json.loads(cli(addr, "--json", "snapshots", "save").stdout)["model_version"]
            # Five more events, one request each, each published before the next: five
            # versions for five logged events, so a replay alone gets back exactly to
            # the last of them.
            version = int(stats(addr)["model_version"])
            for k in range(5):
                observe(stub, f"b{k}", 1)
                deadline = time.time() + 30
                while int(stats(addr)["model_version"]) <= version and time.time() < deadline:
                    time.sleep(0.01)
                version = int(stats(addr)["model_version"])
            predict = pb.PredictRequest(candidates=[pb.Item(id="i1")])
            before = stub.Predict(predict, timeout=10)
            seen = [before.model_version]
            polling = threading.Event()

            def poll():  # what clients see while the rollback runs
                while not polling.is_set():
                    try:
                        seen.append(stub.Predict(predict, timeout=5).model_version)
                    except grpc.RpcError:
                        return
            poller = threading.Thread(target=poll)
            poller.start()
            r = cli(addr, "snapshots", "rollback", str(saved))
            self.assertNotEqual(r.returncode, 0)  # the server died before answering
            self.assertEqual(proc.wait(timeout=60), -signal.SIGKILL)
            polling.set()
            poller.join()
            proc.drain.join(timeout=10)
            proc.stderr.close()
            self.assertEqual(max(seen), before.model_version, "the rollback was served")
            proc, addr = start(d)
            wait_ready(proc)
            stub = streamrec_pb2_grpc.RecommenderStub(grpc.insecure_channel(addr))
            after = stub.Predict(predict, timeout=10)
            self.assertGreaterEqual(after.model_version, max(seen))
            self.assertEqual(after.items[0].score, before.items[0].score)
            self.assertEqual(stop(proc)[0], 0)

    def test_unreadable_manifests_keep_every_chunk(self):
        with tempfile.TemporaryDirectory() as d:
            self.prepare(d, saves=2)
            before = subprocess.run([TOOL, "count-chunks", d], capture_output=True, text=True)
            self.assertGreater(int(before.stdout), 0)
            self.assertEqual(subprocess.run([TOOL, "corrupt-manifests", d]).returncode, 0)
            r = run_to_exit(d)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("manifest checksum mismatch", r.stderr)
            after = subprocess.run([TOOL, "count-chunks", d], capture_output=True, text=True)
            self.assertEqual(after.stdout, before.stdout)

    def test_sigterm_during_startup_replay_stops_promptly(self):
        with tempfile.TemporaryDirectory() as d:
            events = os.path.join(d, "events.tsv")
            n = 1500000
            g = subprocess.run([CLI, "generate", "--n", str(n), "--format", "criteo",
                                "--output", events], capture_output=True, text=True)
            self.assertEqual(g.returncode, 0, g.stderr)
            data = os.path.join(d, "data")
            proc, addr = start(data, "--persist_interval_s=0")
            wait_ready(proc)
            r = cli(addr, "replay", events, "--quiet", "--batch", "5000")
            self.assertEqual(r.returncode, 0, r.stderr)
            proc.kill()  # no final snapshot: the whole log is replayed at the next start
            proc.wait()
            proc.stderr.close()
            proc, addr = start(data)
            for line in proc.stderr:
                if "replaying" in line:
                    break
            sent = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            rest = proc.stderr.read()
            code = proc.wait(timeout=120)
            took = time.monotonic() - sent
            proc.stderr.close()
            self.assertEqual(code, 0, rest)
            self.assertIn("stopped during startup", rest)
            self.assertFalse(any(is_ready(line) for line in rest.splitlines()), rest)
            m = re.search(r"after replaying (\d+) of (\d+) events", rest)
            self.assertIsNotNone(m, rest)
            self.assertLess(int(m.group(1)), int(m.group(2)))
            self.assertLess(took, 2.0, rest)
            # Nothing was lost: the next start replays the whole log.
            proc, addr = start(data)
            wait_ready(proc)
            self.assertEqual(int(stats(addr)["events_applied"]), n)
            self.assertEqual(stop(proc)[0], 0)

    def test_disk_full_on_a_real_file_system(self):
        if os.environ.get("STREAMREC_IN_MOUNT_NS") != "1":
            # A small tmpfs needs a private mount namespace (root, or a user namespace).
            r = subprocess.run(
                ["unshare", "--mount", "--map-root-user", "--propagation", "private",
                 "env", "STREAMREC_IN_MOUNT_NS=1", sys.executable, os.path.abspath(__file__),
                 SERVER, CLI, TOOL, STUBS, "StorageFaultsTest.test_disk_full_on_a_real_file_system"],
                capture_output=True, text=True, timeout=300)
            if r.returncode != 0 and "unshare" in r.stderr and "Operation not permitted" in r.stderr:
                self.skipTest("no mount namespace here: " + r.stderr.strip())
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("OK", r.stderr)
            return
        with tempfile.TemporaryDirectory() as tmp:
            events = os.path.join(tmp, "events.tsv")
            g = subprocess.run([CLI, "generate", "--n", "1200000", "--format", "criteo",
                                "--output", events], capture_output=True, text=True)
            self.assertEqual(g.returncode, 0, g.stderr)
            mnt = os.path.join(tmp, "mnt")
            os.mkdir(mnt)
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", mnt], check=True)
            try:
                self.disk_full_scenario(mnt, events)
            finally:
                subprocess.run(["umount", "-l", mnt], check=False)

    def disk_full_scenario(self, mnt, events):
        data = os.path.join(mnt, "data")
        proc, addr = start(data, "--persist_interval_s=0", "--storage_retry_ms=100")
        wait_ready(proc)
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb") as f:  # fill the file system to the last byte
            try:
                while True:
                    f.write(b"\0" * (1 << 16))
                    f.flush()
            except OSError:
                pass
        # RocksDB preallocated its log file at start, so writes go on for a while, until
        # the log outgrows that space.
        r = cli(addr, "replay", events, "--quiet", "--batch", "2000")
        self.assertNotEqual(r.returncode, 0, "the disk never filled")
        self.assertIn("not writable", r.stderr)
        deadline = time.time() + 30
        while health(addr)["streamrec.v1.Ingest"] != "NOT_SERVING" and time.time() < deadline:
            time.sleep(0.05)
        h = health(addr)
        self.assertEqual(h["streamrec.v1.Ingest"], "NOT_SERVING")
        self.assertEqual(h["streamrec.v1.Recommender"], "SERVING")
        s = stats(addr)
        self.assertFalse(s.get("storage_writable", False))
        self.assertIn("No space left", s["storage_error"])
        acked = int(s["events_accepted"])
        self.assertGreater(acked, 0)
        self.assertGreater(int(s["events_rejected"]["storage_unavailable"]), 0)
        channel = grpc.insecure_channel(addr)
        stub = streamrec_pb2_grpc.RecommenderStub(channel)
        with self.assertRaises(grpc.RpcError) as e:
            observe(stub, "b", 10)
        self.assertEqual(e.exception.code(), grpc.StatusCode.UNAVAILABLE)
        r = cli(addr, "predict", "user=a1", "--item", "i1")
        self.assertEqual(r.returncode, 0, r.stderr)
        # Space comes back: the server resumes by itself.
        os.remove(filler)
        deadline = time.time() + 30
        while health(addr)["streamrec.v1.Ingest"] != "SERVING" and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(health(addr)["streamrec.v1.Ingest"], "SERVING", "".join(proc.log))
        observe(stub, "c", 300)
        acked += 300
        s = stats(addr)
        self.assertGreaterEqual(int(s["storage_recoveries"]), 1)
        self.assertEqual(int(s["events_accepted"]), acked)
        channel.close()
        code, log = stop(proc)
        self.assertEqual(code, 0, log)
        proc, addr = start(data)
        wait_ready(proc)
        self.assertEqual(int(stats(addr)["events_applied"]), acked)
        self.assertEqual(stop(proc)[0], 0)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[5:], verbosity=2)
