#!/usr/bin/python3
"""Operations features under hostile input, against the real server binary and CLI
(README "Operations"):
  - the CLI refuses a token with a byte gRPC's metadata check rejects (it aborted the
    process and printed the token): a UTF-8 BOM, \\x01, in --token_file (exit 5) or
    $STREAMREC_TOKEN (exit 2), without quoting the token; a --ca without a PEM
    certificate exits 5 before connecting;
  - SIGHUP with the tokens file emptied, replaced by a directory or by a FIFO keeps the
    tokens in force (and a FIFO never blocks the server's stop); a directory as
    --auth_tokens_file refuses the start naming the flag; `#` comments after the role;
  - listener flags with a port above 65535 (gRPC wrapped them around) or no port are
    refused naming the flag;
  - idle TCP connections do not stall a /metrics scrape; `Accept-Encoding: gzip;q=0` gets
    no gzip;
  - a SIGHUP while the server is still starting does not kill it;
  - with --log_format=json (or STREAMREC_LOG_FORMAT=json) an error about another variable
    is JSON too; an unknown STREAMREC_* variable is warned about by name.

Usage: ops_hardening_test.py SERVER_BINARY CLI_BINARY
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_harness import wait_ready  # noqa: E402
from server_log import ADMIN_ANY_PORT, startup_record  # noqa: E402

SERVER, CLI = sys.argv[1], sys.argv[2]
ADMIN, OBSERVE = "admin-token-0123456789ab", "observe-token-0123456789"


def clean_env(**extra):
    e = {k: v for k, v in os.environ.items() if not k.startswith("STREAMREC_")}
    e.update(extra)
    return e


def run_server(*flags, env=None, timeout=30):
    """A server that is expected to refuse its start: its CompletedProcess."""
    with tempfile.TemporaryDirectory() as d:
        return subprocess.run([SERVER, "--listen=127.0.0.1:0", ADMIN_ANY_PORT,
                               "--metrics_listen=", f"--data_dir={d}/data", *flags],
                              capture_output=True, text=True, timeout=timeout,
                              env=env if env is not None else clean_env())


class Server:
    """A running server on a fresh data dir; .addr, .listeners, .proc.log (lines)."""

    def __init__(self, *flags, env=None):
        self.tmp = tempfile.TemporaryDirectory()
        self.proc = subprocess.Popen(
            [SERVER, "--listen=127.0.0.1:0", ADMIN_ANY_PORT, "--metrics_listen=127.0.0.1:0",
             f"--data_dir={self.tmp.name}/data", *flags],
            stderr=subprocess.PIPE, text=True, env=env if env is not None else clean_env())
        self.early = []  # the lines before the startup record
        self.listeners = startup_record(self.proc, self.early)["listeners"]
        self.addr = self.listeners["grpc"]
        wait_ready(self.proc)

    def log_has(self, text, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(text in line for line in self.proc.log):
                return True
            time.sleep(0.05)
        return False

    def stop(self, timeout=30):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=timeout)
        self.proc.stderr.close()
        self.tmp.cleanup()
        return rc


class CliTokenBytesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.TemporaryDirectory()
        tokens = os.path.join(cls.d.name, "tokens")
        with open(tokens, "w") as f:
            f.write(f"{ADMIN} admin\n")
        os.chmod(tokens, 0o600)
        cls.server = Server(f"--auth_tokens_file={tokens}")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.d.cleanup()

    def cli(self, *args, env=None):
        return subprocess.run([CLI, "--server", self.server.addr, "--admin_server",
                               self.server.listeners["admin"], *args],
                              capture_output=True, timeout=60, env=clean_env(**(env or {})))

    def token_file(self, name, data):
        path = os.path.join(self.d.name, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def assertNoToken(self, r):
        out = r.stdout + r.stderr
        self.assertNotIn(ADMIN.encode(), out)
        self.assertNotIn(b"0123456789", out)

    def test_a_bom_in_the_token_file_is_named(self):
        path = self.token_file("bom", b"\xef\xbb\xbf" + ADMIN.encode() + b"\n")
        r = self.cli("--token_file", path, "snapshots", "save")
        self.assertEqual(r.returncode, 5, r.stderr)  # not -6 (SIGABRT)
        self.assertIn(b"byte order mark (BOM)", r.stderr)
        self.assertIn(path.encode(), r.stderr)
        self.assertNoToken(r)

    def test_a_control_byte_in_the_token_file_is_refused_with_its_offset(self):
        path = self.token_file("ctl", ADMIN[:5].encode() + b"\x01" + ADMIN[5:].encode() + b"\n")
        r = self.cli("--token_file", path, "snapshots", "save")
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn(f"--token_file {path} holds a byte that is not printable ASCII "
                      f"(at offset 5)".encode(), r.stderr)
        self.assertNoToken(r)
        path = self.token_file("high", ADMIN.encode() + b"\xc3\xa9\n")
        r = self.cli("--token_file", path, "snapshots", "save")
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn(f"(at offset {len(ADMIN)})".encode(), r.stderr)
        self.assertNoToken(r)

    def test_a_control_byte_in_the_token_variable_is_a_usage_error(self):
        r = self.cli("snapshots", "save", env={"STREAMREC_TOKEN": ADMIN[:3] + "\x01" + ADMIN[3:]})
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(b"$STREAMREC_TOKEN holds a byte that is not printable ASCII (at offset 3)",
                      r.stderr)
        self.assertNoToken(r)

    def test_a_good_token_still_works(self):
        path = self.token_file("good", ADMIN.encode() + b"\r\n")
        r = self.cli("--token_file", path, "snapshots", "save")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_a_ca_file_without_a_certificate_exits_5_before_connecting(self):
        path = self.token_file("garbage.pem", os.urandom(300).replace(b"-", b"x"))
        r = self.cli("--ca", path, "info")
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertEqual(r.stderr.decode(), f"streamrec: --ca {path} holds no PEM certificate\n")


class TokensFileReloadTest(unittest.TestCase):
    def setUp(self):
        self.d = tempfile.TemporaryDirectory()
        self.tokens = os.path.join(self.d.name, "tokens")
        self.write(f"{ADMIN} admin\n{OBSERVE} observe\n")
        self.server = Server(f"--auth_tokens_file={self.tokens}")

    def tearDown(self):
        if self.server.proc.poll() is None:
            self.server.stop()
        self.d.cleanup()

    def write(self, text):
        if os.path.isdir(self.tokens):
            os.rmdir(self.tokens)
        elif os.path.lexists(self.tokens):
            os.remove(self.tokens)
        with open(self.tokens, "w") as f:
            f.write(text)
        os.chmod(self.tokens, 0o600)

    def observe_ok(self, token):
        r = subprocess.run([CLI, "--server", self.server.addr, "observe", "u=1", "--item", "m1",
                            "--label", "1"], capture_output=True, text=True, timeout=60,
                           env=clean_env(STREAMREC_TOKEN=token))
        return r.returncode == 0

    def hup_and_wait(self, text):
        before = len(self.server.proc.log)
        self.server.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while not any(text in l for l in self.server.proc.log[before:]):
            self.assertLess(time.time(), deadline, self.server.proc.log[-5:])
            time.sleep(0.05)
        return [l for l in self.server.proc.log[before:] if text in l]

    def test_a_trailing_comment_after_the_role_parses(self):
        # The README's example: `TOKEN ROLE      # who holds it`.
        self.write(f"# generate each with `openssl rand -hex 32`\n{ADMIN} admin        # operators\n"
                   f"{OBSERVE} observe\t# the event collector\n")
        self.hup_and_wait("tokens reloaded tokens=2")
        self.assertTrue(self.observe_ok(OBSERVE))

    def test_an_emptied_file_keeps_the_tokens_in_force(self):
        self.write("")
        (line,) = self.hup_and_wait("tokens not reloaded")
        self.assertIn(f"{self.tokens} holds no token; keeping the 2 tokens in force", line)
        self.assertTrue(self.observe_ok(OBSERVE))
        self.write("# only comments\n\n")
        self.hup_and_wait("tokens not reloaded")
        self.assertTrue(self.observe_ok(OBSERVE))

    def test_a_directory_keeps_the_tokens_in_force(self):
        os.remove(self.tokens)
        os.mkdir(self.tokens)
        (line,) = self.hup_and_wait("tokens not reloaded")
        self.assertIn("is a directory, not a file", line)
        self.assertTrue(self.observe_ok(OBSERVE))

    def test_a_fifo_neither_blocks_the_reload_nor_the_stop(self):
        os.remove(self.tokens)
        os.mkfifo(self.tokens)
        (line,) = self.hup_and_wait("tokens not reloaded")
        self.assertIn("is not a regular file", line)
        self.assertTrue(self.observe_ok(OBSERVE))
        self.write(f"{ADMIN} admin\n")  # a later reload still works: the thread is free
        self.hup_and_wait("tokens reloaded tokens=1")
        self.assertFalse(self.observe_ok(OBSERVE))
        os.remove(self.tokens)
        os.mkfifo(self.tokens)
        self.server.proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        started = time.time()
        self.assertEqual(self.server.stop(timeout=20), 0)
        self.assertLess(time.time() - started, 15)

    def test_a_directory_at_start_is_refused_naming_the_flag(self):
        r = run_server(f"--auth_tokens_file={self.d.name}")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(f"--auth_tokens_file {self.d.name}: is a directory", r.stderr)


class ListenerFlagsTest(unittest.TestCase):
    def test_ports_out_of_range_and_unparseable_addresses_are_refused(self):
        cases = [
            ("--listen=127.0.0.1:70000", "--listen", "127.0.0.1:70000"),
            ("--listen=127.0.0.1:-1", "--listen", "127.0.0.1:-1"),
            ("--listen=garbage", "--listen", "garbage"),
            ("--admin_listen=127.0.0.1:115588", "--admin_listen", "127.0.0.1:115588"),
            ("--health_listen=127.0.0.1:65536", "--health_listen", "127.0.0.1:65536"),
            ("--metrics_listen=127.0.0.1:99999", "--metrics_listen", "127.0.0.1:99999"),
            ("--metrics_listen=127.0.0.1", "--metrics_listen", "127.0.0.1"),
        ]
        for flag, name, value in cases:
            r = run_server(flag)
            self.assertEqual(r.returncode, 2, (flag, r.stderr))
            self.assertIn(f'{name} must be host:port with a port from 0 to 65535', r.stderr, flag)
            self.assertIn(f'got "{value}"', r.stderr, flag)
            self.assertNotIn("in use", r.stderr, flag)


class MetricsEndpointTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        host, port = cls.server.listeners["metrics"].rsplit(":", 1)
        cls.host, cls.port = host, int(port)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def get(self, headers=None, timeout=60):
        c = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            c.request("GET", "/metrics", headers=headers or {})
            r = c.getresponse()
            return r.status, r.getheader("Content-Encoding"), r.read()
        finally:
            c.close()

    def test_idle_connections_do_not_stall_a_scrape(self):
        # Two workers and a 5 s read timeout took 40 s to answer behind 16 idle sockets.
        idle = [socket.create_connection((self.host, self.port)) for _ in range(16)]
        try:
            time.sleep(0.1)
            started = time.time()
            status, _, body = self.get()
            elapsed = time.time() - started
            self.assertEqual(status, 200)
            self.assertIn(b"streamrec_ready", body)
            self.assertLess(elapsed, 5, f"a scrape behind 16 idle connections took {elapsed:.1f} s")
        finally:
            for s in idle:
                s.close()

    def test_gzip_only_when_accepted_with_a_positive_q(self):
        status, encoding, body = self.get({"Accept-Encoding": "gzip;q=0"})
        self.assertEqual(status, 200)
        self.assertIsNone(encoding)
        self.assertIn(b"streamrec_ready", body)
        self.assertIsNone(self.get({"Accept-Encoding": "identity, *;q=0"})[1])
        self.assertEqual(self.get({"Accept-Encoding": "gzip;q=0.5"})[1], "gzip")
        self.assertEqual(self.get({"Accept-Encoding": "gzip"})[1], "gzip")


class EarlySighupTest(unittest.TestCase):
    def test_a_sighup_while_the_server_starts_does_not_kill_it(self):
        # The start is held in reading --model_config from a FIFO (before the flags are
        # all checked), where the server used to have SIGHUP's default action: exit.
        with tempfile.TemporaryDirectory() as d:
            fifo = os.path.join(d, "model.textproto")
            os.mkfifo(fifo)
            proc = subprocess.Popen(
                [SERVER, "--listen=127.0.0.1:0", ADMIN_ANY_PORT, "--metrics_listen=",
                 f"--data_dir={d}/data", f"--model_config={fifo}"],
                stderr=subprocess.PIPE, text=True, env=clean_env())
            try:
                time.sleep(0.5)  # loaded and waiting for the FIFO's writer
                self.assertIsNone(proc.poll())
                proc.send_signal(signal.SIGHUP)
                time.sleep(0.2)
                self.assertIsNone(proc.poll(), "SIGHUP killed the server while it started")
                with open(fifo, "w") as f:
                    f.write("kind: LOGISTIC_REGRESSION\n")
                startup_record(proc)
                wait_ready(proc)
                time.sleep(0.5)  # the pending SIGHUP is taken by the reload thread
                self.assertIsNone(proc.poll())
            finally:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                self.assertEqual(proc.wait(timeout=30), 0)
                proc.stderr.close()


class EnvironmentTest(unittest.TestCase):
    def assertAllJson(self, stderr):
        lines = stderr.splitlines()
        self.assertTrue(lines)
        for line in lines:
            record = json.loads(line)  # raises on a text line
            self.assertLessEqual({"ts", "level", "msg"}, set(record))

    def test_a_bad_variable_is_reported_in_the_json_format(self):
        for flags, env in ((["--log_format=json"], {}), (["--log_format", "json"], {}),
                           ([], {"STREAMREC_LOG_FORMAT": "json"})):
            r = run_server(*flags, env=clean_env(STREAMREC_MAX_CANDIDATES="abc", **env))
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("STREAMREC_MAX_CANDIDATES", r.stderr)
            self.assertAllJson(r.stderr)

    def test_an_unknown_streamrec_variable_is_warned_about(self):
        server = Server("--log_format=json", env=clean_env(
            STREAMREC_LISTN="127.0.0.1:1", STREAMREC_SERVER="x:1", STREAMREC_TOKEN="secret-value",
            STREAMREC_ADMIN_SERVER="x:2", STREAMREC_TLS="0", STREAMREC_METRICS_LISTEN="127.0.0.1:0",
            STREAMREC_DURABILITY="async"))
        early = list(server.early)
        server.stop()
        warned = [json.loads(l)["variable"] for l in early if "names no server flag" in l]
        self.assertEqual(warned, ["STREAMREC_LISTN"], early)
        self.assertFalse(any("secret-value" in l or "127.0.0.1:1" in l for l in early), early)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
