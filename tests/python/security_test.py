#!/usr/bin/python3
"""Security against the real server binary and CLI, with certificates made by openssl in
a temporary directory:
  - the CLI end to end over mutual TLS with tokens: --tls --ca --cert --key --token_file,
    their environment variables and $STREAMREC_TOKEN, --admin_server and
    $STREAMREC_ADMIN_SERVER; refusals exit 4 naming what is missing;
  - audit records for save, rollback, export, import (allowed and refused) and
    --start_fresh, with peer, role, certificate subject and result;
  - SIGHUP reloads the tokens file without a restart (a broken one keeps the old tokens);
  - bad security flags exit 2 naming the flag.

Usage: security_test.py SERVER_BINARY CLI_BINARY
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_harness import wait_ready  # noqa: E402
from server_log import ADMIN_ANY_PORT, listening_port  # noqa: E402

SERVER, CLI = sys.argv[1], sys.argv[2]
PREDICT, OBSERVE, ADMIN = "predict-token-0123456789", "observe-token-0123456789", \
    "admin-token-0123456789ab"


def make_certs(d):
    script = f"""set -e; cd '{d}'
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > server.ext
      printf 'extendedKeyUsage=clientAuth\\n' > client.ext
      openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=ca
      openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=server
      openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
        -days 2 -extfile server.ext
      openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=ops-laptop
      openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem \
        -days 2 -extfile client.ext"""
    subprocess.run(["bash", "-c", script], check=True, capture_output=True)


class SecurityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.d = cls.tmp.name
        make_certs(cls.d)
        cls.tokens = cls.file("tokens", f"{PREDICT} predict\n{OBSERVE} observe\n{ADMIN} admin\n")
        os.chmod(cls.tokens, 0o600)
        cls.admin_token = cls.file("admin.token", ADMIN + "\n")
        cls.proc = subprocess.Popen(
            [SERVER, "--listen=127.0.0.1:0", ADMIN_ANY_PORT, f"--data_dir={cls.d}/data",
             f"--tls_cert={cls.d}/server.pem", f"--tls_key={cls.d}/server.key",
             f"--tls_client_ca={cls.d}/ca.pem", f"--auth_tokens_file={cls.tokens}"],
            stderr=subprocess.PIPE, text=True)
        cls.addr = f"127.0.0.1:{listening_port(cls.proc)}"
        cls.admin_addr = cls.proc.admin_addr
        wait_ready(cls.proc)

    @classmethod
    def tearDownClass(cls):
        cls.proc.send_signal(signal.SIGTERM)
        cls.proc.wait(timeout=30)
        cls.proc.stderr.close()
        cls.tmp.cleanup()

    @classmethod
    def file(cls, name, text):
        path = os.path.join(cls.d, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def tls(self):
        return ["--ca", f"{self.d}/ca.pem", "--cert", f"{self.d}/client.pem", "--key",
                f"{self.d}/client.key"]

    def cli(self, *args, env=None):
        e = {k: v for k, v in os.environ.items() if not k.startswith("STREAMREC_")}
        e.update(env or {})
        return subprocess.run([CLI, "--server", self.addr, *args], capture_output=True,
                              text=True, timeout=60, env=e)

    def audit(self, action, count_before=0):
        """The audit records of `action` after the first `count_before`, once there."""
        deadline = time.time() + 10
        while time.time() < deadline:
            lines = [l for l in self.proc.log if " audit " in l and f"action={action} " in l]
            if len(lines) > count_before:
                return lines[count_before:]
            time.sleep(0.05)
        self.fail(f"no audit record of {action}: {self.proc.log[-20:]}")

    def count(self, action):
        return len([l for l in self.proc.log if " audit " in l and f"action={action} " in l])

    def test_cli_flags_and_environment(self):
        # Plaintext to a TLS port fails (exit 3) with a hint.
        r = self.cli("info")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("--tls", r.stderr)
        # mTLS without a client certificate fails.
        r = self.cli("--tls", "--ca", f"{self.d}/ca.pem", "info")
        self.assertEqual(r.returncode, 3, r.stderr)
        # Predict needs no token; Observe does (exit 4, UNAUTHENTICATED, names the role).
        self.assertEqual(self.cli(*self.tls(), "predict", "u=1", "--item", "m1").returncode, 0)
        r = self.cli(*self.tls(), "observe", "u=1", "--item", "m1", "--label", "1")
        self.assertEqual(r.returncode, 4)
        self.assertIn("UNAUTHENTICATED: Observe needs a bearer token", r.stderr)
        # The wrong role: PERMISSION_DENIED; the right one through $STREAMREC_TOKEN and the
        # TLS variables.
        predict_token = self.file("predict.token", PREDICT)
        r = self.cli(*self.tls(), "--token_file", predict_token, "observe", "u=1", "--item",
                     "m1", "--label", "1")
        self.assertEqual(r.returncode, 4)
        self.assertIn("PERMISSION_DENIED: Observe needs a token with role observe or admin",
                      r.stderr)
        env = {"STREAMREC_TLS": "1", "STREAMREC_CA": f"{self.d}/ca.pem",
               "STREAMREC_CERT": f"{self.d}/client.pem", "STREAMREC_KEY": f"{self.d}/client.key",
               "STREAMREC_TOKEN": OBSERVE}
        r = self.cli("observe", "u=1", "--item", "m1", "--label", "1", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        # Read-only commands on the serving port with any valid token.
        for command in (["info"], ["stats"], ["snapshots", "list"]):
            r = self.cli(*self.tls(), "--token_file", predict_token, *command)
            self.assertEqual(r.returncode, 0, (command, r.stderr))
        # snapshots save goes to --admin_server; the serving port refuses it by name.
        r = self.cli(*self.tls(), "--token_file", self.admin_token, "--admin_server", self.addr,
                     "snapshots", "save")
        self.assertEqual(r.returncode, 4)
        self.assertIn("UNIMPLEMENTED: SaveSnapshot is not served on this port", r.stderr)
        self.assertIn("--admin_listen", r.stderr)
        r = self.cli(*self.tls(), "--token_file", self.admin_token, "--admin_server",
                     self.admin_addr, "snapshots", "save")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.cli("snapshots", "save",
                     env={**env, "STREAMREC_TOKEN": ADMIN, "STREAMREC_ADMIN_SERVER": self.admin_addr})
        self.assertEqual(r.returncode, 0, r.stderr)
        # Usage and file errors.
        self.assertEqual(self.cli("--cert", f"{self.d}/client.pem", "info").returncode, 2)
        self.assertEqual(self.cli("--token_file", f"{self.d}/missing", "info").returncode, 5)
        self.assertEqual(self.cli("info", env={"STREAMREC_TLS": "maybe"}).returncode, 2)

    def test_admin_actions_are_audited(self):
        admin = ["--admin_server", self.admin_addr]
        before = {a: self.count(a) for a in ("save_snapshot", "rollback", "export_snapshot",
                                             "import_snapshot")}
        r = self.cli(*self.tls(), "--token_file", self.admin_token, *admin, "--json",
                     "snapshots", "save")
        self.assertEqual(r.returncode, 0, r.stderr)
        (line,) = self.audit("save_snapshot", before["save_snapshot"])
        self.assertRegex(line, r"INFO audit action=save_snapshot peer=ipv4:127\.0\.0\.1:\d+ "
                               r"role=admin subject=\"?CN=ops-laptop\"? result=OK "
                               r"model_version=\d+ detail=saved")
        r = self.cli(*self.tls(), "--token_file", self.admin_token, *admin, "snapshots",
                     "rollback", "0")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('detail="to snapshot 0"', self.audit("rollback", before["rollback"])[0])
        snap = os.path.join(self.d, "x.snap")
        r = self.cli(*self.tls(), "--token_file", self.admin_token, *admin, "snapshots",
                     "export", snap)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("result=OK", self.audit("export_snapshot", before["export_snapshot"])[0])
        r = self.cli(*self.tls(), "--token_file", self.admin_token, *admin, "snapshots",
                     "import", snap)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("result=OK", self.audit("import_snapshot", before["import_snapshot"])[0])
        # Refused: audited with the outcome, the role unknown.
        r = self.cli(*self.tls(), *admin, "snapshots", "import", snap)
        self.assertEqual(r.returncode, 4)
        line = self.audit("import_snapshot", before["import_snapshot"] + 1)[0]
        self.assertIn("role=- ", line)
        self.assertIn("result=UNAUTHENTICATED", line)

    def test_sighup_reloads_the_tokens_file(self):
        new = "new-observe-token-0123456789"
        env = {"STREAMREC_TOKEN": new}
        observe = [*self.tls(), "observe", "u=1", "--item", "m1", "--label", "1"]
        self.assertEqual(self.cli(*observe, env=env).returncode, 4)
        with open(self.tokens) as f:
            original = f.read()
        try:
            self.file("tokens", original + f"{new} observe\n")
            self.proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 10
            while self.cli(*observe, env=env).returncode != 0 and time.time() < deadline:
                time.sleep(0.1)
            self.assertEqual(self.cli(*observe, env=env).returncode, 0)
            self.assertTrue(any("tokens reloaded tokens=4" in l for l in self.proc.log))
            # A broken file: the error is logged, the tokens in force stay.
            self.file("tokens", "broken\n")
            self.proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 10
            while not any("tokens not reloaded" in l for l in self.proc.log):
                self.assertLess(time.time(), deadline)
                time.sleep(0.05)
            self.assertEqual(self.cli(*observe, env=env).returncode, 0)
            self.assertIsNone(self.proc.poll())  # SIGHUP never stops the server
        finally:
            self.file("tokens", original)
            self.proc.send_signal(signal.SIGHUP)

    def test_bad_security_flags_exit_2(self):
        cases = [
            ([f"--tls_cert={self.d}/server.pem"], "--tls_cert needs --tls_key"),
            ([f"--tls_cert={self.d}/server.pem", f"--tls_key={self.d}/client.key"],
             "is not the key of --tls_cert"),
            (["--predict_requires_auth"], "--predict_requires_auth needs --auth_tokens_file"),
            ([f"--auth_tokens_file={self.d}/missing"], f"--auth_tokens_file {self.d}/missing: cannot be read"),
            (["--tls_refresh_interval_s=0"], "--tls_refresh_interval_s must be in [1, 3600]"),
            (["--listen=127.0.0.1:7", "--admin_listen=127.0.0.1:7"], "must differ from --listen"),
        ]
        with tempfile.TemporaryDirectory() as d:
            for flags, message in cases:
                r = subprocess.run([SERVER, "--listen=127.0.0.1:0", ADMIN_ANY_PORT,
                                    f"--data_dir={d}", *flags],
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual(r.returncode, 2, (flags, r.stderr))
                self.assertIn(message, r.stderr, flags)

    def test_start_fresh_is_audited(self):
        with tempfile.TemporaryDirectory() as d:
            fm = self.file("fm.textproto", "kind: FM\n")

            def run(*flags):
                proc = subprocess.Popen([SERVER, "--listen=127.0.0.1:0", ADMIN_ANY_PORT,
                                         f"--data_dir={d}/data", *flags],
                                        stderr=subprocess.PIPE, text=True)
                seen = []
                listening_port(proc, seen)
                wait_ready(proc)
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
                proc.stderr.close()
                return seen
            run()
            seen = run(f"--model_config={fm}", "--start_fresh")
            lines = [l for l in seen if " audit action=start_fresh " in l]
            self.assertEqual(len(lines), 1, seen)
            self.assertRegex(lines[0], r"peer=local role=flag subject=\"uid \d+\" result=OK")


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
