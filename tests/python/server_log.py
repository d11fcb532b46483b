"""Reading a streamrec-server's stderr in tests (README "Ports, the startup record and
logs"): the startup record (a JSON line with "msg": "listening", printed once every
listener is bound, in either --log_format) and its addresses, and the "ready" record
(recovery done). Lines before the startup record (RocksDB warnings after a crash, for
one) are kept, not taken for it; a server that exits first is reported with what it
printed.

ADMIN_ANY_PORT is the flag every test server takes, so that servers running at once (and
a developer's own on 50052) never compete for the default admin port; the admin address
a server bound is kept as proc.admin_addr and in ADMIN_OF (for admin_flags)."""
import json
import re

# A text-format record: timestamp, level, message, then key=value fields.
TEXT_RECORD = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (INFO|WARNING|ERROR) (.*)$")

ADMIN_ANY_PORT = "--admin_listen=127.0.0.1:0"
ADMIN_OF = {}  # "127.0.0.1:PORT" of a server -> its admin address


def admin_flags(addr):
    """The CLI's --admin_server for the server at `addr` (as listening_port saw it)."""
    return ["--admin_server", ADMIN_OF[addr]] if addr in ADMIN_OF else []


def record(line):
    """The line as (level, message, fields dict or None for text), or None when it is not
    a log record (a JSON object or a text record)."""
    line = line.rstrip("\n")
    if line.startswith("{"):
        try:
            obj = json.loads(line)
        except ValueError:
            return None
        if isinstance(obj, dict) and "msg" in obj and "level" in obj:
            return obj["level"], obj["msg"], obj
        return None
    m = TEXT_RECORD.match(line)
    if not m:
        return None
    return m.group(1).lower(), m.group(2), None


def is_ready(line):
    """The record that says recovery is done and Predict is served."""
    r = record(line)
    return r is not None and (r[1] == "ready" or r[1].startswith("ready "))


def startup_record(proc, seen=None):
    """Reads proc.stderr up to the startup record and returns it (a dict: "listeners"
    maps "grpc", "admin", "metrics" ... to host:port). Lines read before it are appended
    to `seen` (a list) when given. Kills the process and raises AssertionError with its
    output if it ends without listening."""
    lines = []
    for line in proc.stderr:
        r = record(line)
        if r is not None and r[2] is not None and r[1] == "listening":
            rec = r[2]
            admin = rec["listeners"].get("admin")
            if admin:
                proc.admin_addr = admin
                ADMIN_OF["127.0.0.1:" + rec["listeners"]["grpc"].rsplit(":", 1)[1]] = admin
            if seen is not None:
                seen.extend(lines)
            return rec
        lines.append(line)
        if len(lines) > 1000:
            break
    proc.kill()
    proc.wait()
    raise AssertionError("server did not start:\n" + "".join(lines[-50:]))


def listening_port(proc, seen=None):
    """The gRPC port from the startup record (see startup_record)."""
    return int(startup_record(proc, seen)["listeners"]["grpc"].rsplit(":", 1)[1])
