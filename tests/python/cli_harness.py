"""Starting a streamrec-server for the Python tests: wait_ready(proc) reads its log until
recovery is done, fresh_server(server_binary, *flags) is one on a fresh data dir, and
CliServerCase is a test case whose tests share one server (set SERVER and CLI)."""
import contextlib
import os
import signal
import subprocess
import tempfile
import threading
import unittest

from server_log import ADMIN_ANY_PORT, admin_flags, is_ready, listening_port


def wait_ready(proc):
    """Reads the server's log until recovery is done ("ready")."""
    for line in proc.stderr:
        if is_ready(line):
            # Keep reading the log (a server blocked on a full stderr pipe would hang).
            proc.log = []
            proc.drain = threading.Thread(target=lambda: proc.log.extend(proc.stderr),
                                          daemon=True)
            proc.drain.start()
            return
    raise RuntimeError("server exited before it was ready")


@contextlib.contextmanager
def fresh_server(server, *flags):
    """A server of its own on a fresh data dir (so its metrics cover one stream), with
    extra `flags`; yields its address, stops it with SIGTERM."""
    with tempfile.TemporaryDirectory() as d:
        proc = subprocess.Popen([server, "--listen=127.0.0.1:0", ADMIN_ANY_PORT,
                                 f"--data_dir={d}/data", *flags],
                                stderr=subprocess.PIPE, text=True)
        try:
            port = listening_port(proc)
            wait_ready(proc)
            yield f"127.0.0.1:{port}"
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
            proc.stderr.close()


class CliServerCase(unittest.TestCase):
    """Tests sharing one server on a temporary data dir; subclasses set SERVER and CLI
    (the binaries). self.cli(...) runs the CLI against it, self.path(name) is a file in
    the temporary directory."""
    SERVER = CLI = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.proc = subprocess.Popen(
            [cls.SERVER, "--listen=127.0.0.1:0", ADMIN_ANY_PORT, f"--data_dir={cls.tmp.name}/data"],
            stderr=subprocess.PIPE, text=True)
        port = listening_port(cls.proc)
        wait_ready(cls.proc)
        cls.addr = f"127.0.0.1:{port}"

    @classmethod
    def tearDownClass(cls):
        cls.proc.send_signal(signal.SIGTERM)
        cls.proc.wait(timeout=30)
        cls.proc.stderr.close()
        cls.tmp.cleanup()

    def cli(self, *args, stdin=None, server=None):
        return subprocess.run([self.CLI, "--server", server or self.addr,
                               *admin_flags(server or self.addr), *args], input=stdin,
                              capture_output=True, text=True, timeout=300)

    def path(self, name):
        return os.path.join(self.tmp.name, name)
