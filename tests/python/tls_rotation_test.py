#!/usr/bin/python3
"""TLS certificate rotation under a running server, with certificates made by openssl
(README "Security": Rotation without a restart). The server's files are overwritten in
place with garbage, a half-written chain and a key that is not the certificate's: new
connections keep being served with the last good certificate, and one ERROR record per
distinct bad content says so; then a valid new pair (written in place, key first) is
served to new connections within a few seconds.

Usage: tls_rotation_test.py SERVER_BINARY
"""
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_harness import wait_ready  # noqa: E402
from server_log import ADMIN_ANY_PORT, startup_record  # noqa: E402

SERVER = sys.argv[1]
BAD = "tls files do not check; still serving the previous certificate"


def make_certs(d):
    script = f"""set -e; cd '{d}'
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext
      openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=ca
      for n in one two; do
        openssl req -newkey rsa:2048 -nodes -keyout $n.key -out $n.csr -subj /CN=server-$n
        openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $n.pem \
          -days 2 -extfile san.ext
      done"""
    subprocess.run(["bash", "-c", script], check=True, capture_output=True)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def overwrite(path, data):
    """In place, as a careless rotation (or a copy interrupted half-way) does."""
    with open(path, "r+b") as f:
        f.truncate(0)
        f.write(data)


class TlsRotationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.d = cls.tmp.name
        make_certs(d)
        cls.cert, cls.key = f"{d}/server.pem", f"{d}/server.key"
        with open(cls.cert, "wb") as f:
            f.write(read(f"{d}/one.pem"))
        with open(cls.key, "wb") as f:
            f.write(read(f"{d}/one.key"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMREC_")}
        cls.proc = subprocess.Popen(
            [SERVER, "--listen=127.0.0.1:0", ADMIN_ANY_PORT, "--metrics_listen=",
             f"--data_dir={d}/data", "--log_format=json", f"--tls_cert={cls.cert}",
             f"--tls_key={cls.key}", "--tls_refresh_interval_s=1"],
            stderr=subprocess.PIPE, text=True, env=env)
        cls.addr = startup_record(cls.proc)["listeners"]["grpc"]
        wait_ready(cls.proc)

    @classmethod
    def tearDownClass(cls):
        cls.proc.send_signal(signal.SIGTERM)
        cls.proc.wait(timeout=30)
        cls.proc.stderr.close()
        cls.tmp.cleanup()

    def subject(self):
        """The CN of the certificate a new TLS connection is served (verified by the CA)."""
        ctx = ssl.create_default_context(cafile=f"{self.d}/ca.pem")
        ctx.set_alpn_protocols(["h2"])
        host, port = self.addr.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as s:
                return dict(x[0] for x in s.getpeercert()["subject"])["commonName"]

    def health_ok(self):
        """A health check over a new gRPC channel (a new handshake)."""
        creds = grpc.ssl_channel_credentials(read(f"{self.d}/ca.pem"))
        with grpc.secure_channel(self.addr, creds) as channel:
            check = channel.unary_unary("/grpc.health.v1.Health/Check")
            try:
                return check(b"", timeout=10) == b"\x08\x01"  # status: SERVING
            except grpc.RpcError:
                return False

    def records(self, msg):
        out = []
        for line in self.proc.log:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("msg") == msg:
                out.append(r)
        return out

    def wait_records(self, msg, count, timeout=10):
        deadline = time.time() + timeout
        while len(self.records(msg)) < count:
            self.assertLess(time.time(), deadline, f"no {count} x {msg}: {self.proc.log[-5:]}")
            time.sleep(0.05)

    def test_bad_files_keep_the_good_certificate_and_a_good_rotation_is_served(self):
        self.assertEqual(self.subject(), "server-one")
        self.assertTrue(self.health_ok())
        one_pem, two_pem, two_key = (read(f"{self.d}/{n}") for n in ("one.pem", "two.pem", "two.key"))
        bad_contents = [
            ("garbage", lambda: overwrite(self.cert, os.urandom(1200))),
            ("a half-written chain", lambda: overwrite(self.cert, one_pem + two_pem[:len(two_pem) // 2])),
            ("a certificate without its key", lambda: overwrite(self.cert, two_pem)),
        ]
        for count, (what, write) in enumerate(bad_contents, start=1):
            write()
            time.sleep(3)  # the server's check and gRPC's watcher both re-read meanwhile
            self.assertTrue(self.health_ok(), what)
            self.assertEqual(self.subject(), "server-one", what)
            self.assertEqual(len(self.records(BAD)), count, f"{what}: logged once")
        # SIGHUP reports the bad files again (a requested check), and changes nothing.
        self.proc.send_signal(signal.SIGHUP)
        self.wait_records(BAD, len(bad_contents) + 1)
        self.assertIn("is not the key of --tls_cert", self.records(BAD)[-1]["error"])
        # A good pair, written in place key first: served to new connections.
        overwrite(self.key, two_key)
        deadline = time.time() + 15
        while self.subject() != "server-two":
            self.assertLess(time.time(), deadline, "the rotated certificate is not served")
            time.sleep(0.2)
        self.assertTrue(self.health_ok())
        self.assertTrue(any(r["subject"] == "CN=server-two" for r in self.records("tls files checked")))
        self.assertIsNone(self.proc.poll())


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
