"""Reading a streamrec-server's stderr in tests: the port it listens on. Lines before the
"listening on port N" line (RocksDB warnings after a crash, for one) are kept, not taken
for the port line; a server that exits first is reported with what it printed."""
import re


def listening_port(proc, seen=None):
    """Reads proc.stderr up to the 'listening on port N' line and returns N. Lines read
    before it are appended to `seen` (a list) when given. Kills the process and raises
    AssertionError with its output if it ends without listening."""
    lines = []
    for line in proc.stderr:
        m = re.search(r"listening on port (\d+)", line)
        if m:
            if seen is not None:
                seen.extend(lines)
            return int(m.group(1))
        lines.append(line)
        if len(lines) > 1000:
            break
    proc.kill()
    proc.wait()
    raise AssertionError("server did not start:\n" + "".join(lines[-50:]))
