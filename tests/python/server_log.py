"""Reading a streamrec-server's stderr in tests: the port it listens on, and the admin
port's address (the "admin listening address=HOST:PORT" record before it, kept as
proc.admin_addr). Lines before the "listening on port N" line (RocksDB warnings after a
crash, for one) are kept, not taken for the port line; a server that exits first is
reported with what it printed.

ADMIN_ANY_PORT is the flag every test server takes, so that servers running at once (and
a developer's own on 50052) never compete for the default admin port."""
import re

ADMIN_ANY_PORT = "--admin_listen=127.0.0.1:0"
ADMIN_OF = {}  # "127.0.0.1:PORT" of a server -> its admin address


def admin_flags(addr):
    """The CLI's --admin_server for the server at `addr` (as listening_port saw it)."""
    return ["--admin_server", ADMIN_OF[addr]] if addr in ADMIN_OF else []


def listening_port(proc, seen=None):
    """Reads proc.stderr up to the 'listening on port N' line and returns N. Lines read
    before it are appended to `seen` (a list) when given. Kills the process and raises
    AssertionError with its output if it ends without listening."""
    lines = []
    for line in proc.stderr:
        a = re.search(r"admin listening address=(\S+)", line)
        if a:
            proc.admin_addr = a.group(1)
            continue
        m = re.search(r"listening on port (\d+)", line)
        if m:
            if getattr(proc, "admin_addr", None):
                ADMIN_OF[f"127.0.0.1:{m.group(1)}"] = proc.admin_addr
            if seen is not None:
                seen.extend(lines)
            return int(m.group(1))
        lines.append(line)
        if len(lines) > 1000:
            break
    proc.kill()
    proc.wait()
    raise AssertionError("server did not start:\n" + "".join(lines[-50:]))
