"""streamrec-server as a process (README "Ports, the startup record and logs"): the
startup record (one JSON line with every bound address, in either log format), flags
from the environment (STREAMREC_<NAME>, overridden by the command line and --flagfile),
--log_format=json (every line a JSON object), --help listing the server's own flags,
--version, and the errors for a bad environment value or log format.

    /usr/bin/python3 tests/python/server_process_test.py BUILD_BIN_DIR
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_log import is_ready, record, startup_record  # noqa: E402

BIN = sys.argv.pop(1) if len(sys.argv) > 1 else "build/bin"
SERVER = os.path.join(BIN, "streamrec-server")
SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV_BASE = {k: v for k, v in os.environ.items() if not k.startswith("STREAMREC_")}
# Not the default fixed metrics port 9464: tests run in parallel.
ENV_BASE["STREAMREC_METRICS_LISTEN"] = "127.0.0.1:0"


class ServerProcessTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def start(self, *flags, env=None):
        proc = subprocess.Popen([SERVER, *flags], stderr=subprocess.PIPE, text=True,
                                env={**ENV_BASE, **(env or {})})
        self.addCleanup(proc.stderr.close)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        rec = startup_record(proc)
        for line in proc.stderr:
            if is_ready(line):
                break
        return proc, rec

    def stop(self, proc):
        proc.send_signal(signal.SIGTERM)
        rest = proc.stderr.read()
        self.assertEqual(proc.wait(timeout=60), 0, rest)
        return rest

    def test_startup_record_and_environment(self):
        data = os.path.join(self.tmp.name, "d")
        flagfile = os.path.join(self.tmp.name, "flags")
        with open(flagfile, "w") as f:
            f.write("--persist_interval_s=0\n--durability=none\n")
        proc, rec = self.start(
            "--durability=sync", f"--flagfile={flagfile}",
            env={"STREAMREC_LISTEN": "127.0.0.1:0", "STREAMREC_DATA_DIR": data,
                 "STREAMREC_DURABILITY": "async", "STREAMREC_ADMIN_LISTEN": "127.0.0.1:0"})
        # The environment gave the address and the data dir; the flag file, read after
        # the command line's --durability=sync, gave none (absl: the later one wins), and
        # both beat the environment's async.
        host, port = rec["listeners"]["grpc"].rsplit(":", 1)
        self.assertEqual(host, "127.0.0.1")
        self.assertGreater(int(port), 0)
        self.assertEqual(rec["port"], int(port))
        admin_host, admin_port = rec["listeners"]["admin"].rsplit(":", 1)
        self.assertEqual((admin_host, int(admin_port) > 0), ("127.0.0.1", True))
        # Every bound listener: the metrics one took an OS-chosen port too.
        metrics_host, metrics_port = rec["listeners"]["metrics"].rsplit(":", 1)
        self.assertEqual(metrics_host, "127.0.0.1")
        self.assertGreater(int(metrics_port), 0)
        self.assertEqual(rec["data_dir"], data)
        self.assertEqual(rec["durability"], "none")
        with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
            version = re.search(r"project\(streamrec VERSION ([0-9.]+)", f.read()).group(1)
        self.assertEqual(rec["version"], version)
        self.assertRegex(rec["git_revision"], r"^([0-9a-f]{12}(-dirty)?|unknown)$")
        self.assertIn(rec["build_type"], ("Release", "Debug", "RelWithDebInfo", "MinSizeRel"))
        self.assertEqual(rec["pid"], proc.pid)
        for key in ("ts", "level", "msg", "model", "optimizer", "hash_bits",
                    "config_from_data_dir"):
            self.assertIn(key, rec)
        self.assertTrue(os.path.isdir(data))
        rest = self.stop(proc)
        # The text format after the startup record: timestamp, level, message, fields.
        for line in rest.splitlines():
            self.assertIsNotNone(record(line), line)
            self.assertFalse(line.startswith("{"), line)

    def test_json_log_format(self):
        proc = subprocess.Popen(
            [SERVER, "--listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0",
             f"--data_dir={self.tmp.name}/j", "--log_format=json"], stderr=subprocess.PIPE, text=True, env=ENV_BASE)
        self.addCleanup(proc.stderr.close)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if is_ready(line):
                break
        proc.send_signal(signal.SIGTERM)
        lines += proc.stderr.read().splitlines()
        self.assertEqual(proc.wait(timeout=60), 0, "".join(lines))
        msgs = []
        for line in lines:
            obj = json.loads(line)  # every line is one JSON object
            self.assertRegex(obj["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
            self.assertIn(obj["level"], ("info", "warning", "error"))
            msgs.append(obj["msg"])
        for msg in ("listening", "ready", "stopping", "streams ended at stop", "stopped"):
            self.assertIn(msg, msgs)

    def test_bad_environment_value_and_log_format(self):
        r = subprocess.run([SERVER, f"--data_dir={self.tmp.name}/b"], capture_output=True,
                           text=True, env={**ENV_BASE, "STREAMREC_QUEUE_CAPACITY": "lots"},
                           timeout=60)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("STREAMREC_QUEUE_CAPACITY", r.stderr)
        r = subprocess.run([SERVER, f"--data_dir={self.tmp.name}/b", "--log_format=xml"],
                           capture_output=True, text=True, env=ENV_BASE, timeout=60)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--log_format must be text or json", r.stderr)

    def test_help_and_version(self):
        r = subprocess.run([SERVER, "--help"], capture_output=True, text=True, env=ENV_BASE,
                           timeout=60)
        out = r.stdout + r.stderr
        self.assertNotIn("No flags matched", out)
        for flag in ("--listen", "--data_dir", "--durability", "--log_format",
                     "--max_concurrent_streams"):
            self.assertIn(flag, out)
        self.assertIn("STREAMREC_<NAME>", out)
        self.assertIn("server/main.cc", out)
        r = subprocess.run([SERVER, "--version"], capture_output=True, text=True, env=ENV_BASE,
                           timeout=60)
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^streamrec-server \d+\.\d+\.\d+ \(git "
                         r"([0-9a-f]{12}(-dirty)?|unknown), \w+ build\)\n$")


if __name__ == "__main__":
    unittest.main()
