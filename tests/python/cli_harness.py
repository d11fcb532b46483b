"""Starting a streamrec-server for the CLI tests: wait_ready(proc) reads its log until
recovery is done, fresh_server(server_binary, *flags) is one on a fresh data dir."""
import contextlib
import signal
import subprocess
import tempfile
import threading

from server_log import listening_port


def wait_ready(proc):
    """Reads the server's log until recovery is done ("ready")."""
    for line in proc.stderr:
        if "streamrec-server: ready" in line:
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
        proc = subprocess.Popen([server, "--listen=127.0.0.1:0", f"--data_dir={d}/data", *flags],
                                stderr=subprocess.PIPE, text=True)
        try:
            port = listening_port(proc)
            wait_ready(proc)
            yield f"127.0.0.1:{port}"
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
            proc.stderr.close()
