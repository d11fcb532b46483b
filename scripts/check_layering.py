#!/usr/bin/env python3
"""Layering check: reads every #include in the source folders and fails if a folder
includes what its layer must not see (README "Design").

    common/       the log records: nothing but the standard library and Abseil
    model/        pure computation: no proto, protobuf, gRPC, RocksDB; nothing of
                  common/, storage/, server/ or client/
    storage/      the model and RocksDB: no proto, protobuf, gRPC; nothing of server/ or
                  client/
    server/core/  the pipeline (queue, updater, log writer, slot): no proto, protobuf,
                  gRPC, RocksDB; nothing of storage/, client/ or the rest of server/
                  (storage reaches it through callbacks the server wires)
    server/       no RocksDB header (RocksDB types stay in storage/), nothing of client/
    client/       the proto and its own files only

Usage: check_layering.py [ROOT]        (ROOT: the checkout, default: this script's ../)
       check_layering.py --self-test   (a violation in a scratch tree must be caught)
Exit 0 when every rule holds; 1 with one line per violation (file:line: include, rule).

It reads the includes a compiler would: comments removed, continuations joined, '#if 0'
blocks skipped, '%:' digraphs, include_next, relative paths resolved; an include through
a macro is reported, since its target cannot be read. It checks direct includes: the
rules compose because model/ and server/core/ include only folders that obey them
(server/ reaches RocksDB only through storage/ headers, which is allowed).
"""
import os
import re
import sys
import tempfile

PROTO = (r"^streamrec/v1/", r"\.pb\.h$", r"^google/protobuf/")
GRPC = (r"^grpc", r"^grpcpp/")
ROCKSDB = (r"^rocksdb/",)

# Folder -> forbidden include patterns (matched against the include as written, and
# against the project path a quoted relative include resolves to). The longest matching
# folder applies.
RULES = {
    "common/": PROTO + GRPC + ROCKSDB + (r"^model/", r"^storage/", r"^server/", r"^client/",
                                          r"^Eigen/"),
    "model/": PROTO + GRPC + ROCKSDB + (r"^common/", r"^storage/", r"^server/", r"^client/"),
    "storage/": PROTO + GRPC + (r"^server/", r"^client/"),
    "server/core/": PROTO + GRPC + ROCKSDB + (r"^storage/", r"^client/", r"^server/(?!core/)"),
    "server/": ROCKSDB + (r"^client/",),
    "client/": ROCKSDB + (r"^model/", r"^storage/", r"^server/", r"^Eigen/"),
}
EXTENSIONS = (".h", ".hh", ".hpp", ".hxx", ".inc", ".cc", ".cpp", ".cxx", ".c")

# A preprocessing line: '#' or the digraph '%:', then include / include_next / import.
DIRECTIVE = re.compile(r'^\s*(?:#|%:)\s*(include_next|include|import)\b\s*(.*)$')
HEADER = re.compile(r'^[<"]([^>"]+)[>"]')
CONDITIONAL = re.compile(r'^\s*(?:#|%:)\s*(if|ifdef|ifndef|elif|else|endif)\b\s*(.*)$')


def logical_lines(text):
    """Yields (line number, logical line) with comments removed (block comments may span
    lines; string literals are kept, so a '//' or '/*' inside one is not a comment) and
    backslash continuations joined."""
    text = text.lstrip("\ufeff")
    out, i, n, line, start = [], 0, len(text), 1, 1
    in_block = False
    current = []
    while i < n:
        c = text[i]
        if in_block:
            if text.startswith("*/", i):
                in_block = False
                current.append(" ")
                i += 2
                continue
            if c == "\n":
                line += 1
            i += 1
            continue
        if text.startswith("/*", i):
            in_block = True
            i += 2
            continue
        if text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            current.append(text[i:j + 1])
            i = j + 1
            continue
        if c == "\\" and text.startswith("\\\n", i):  # continuation
            line += 1
            i += 2
            continue
        if c == "\n":
            out.append((start, "".join(current)))
            current = []
            line += 1
            start = line
            i += 1
            continue
        current.append(c)
        i += 1
    if current:
        out.append((start, "".join(current)))
    return out


def includes(text):
    """Yields (line number, include as written or None for a computed include), skipping
    blocks under '#if 0'."""
    skipping = []  # one flag per open conditional: True when inside '#if 0'
    for lineno, logical in logical_lines(text):
        cond = CONDITIONAL.match(logical)
        if cond:
            kind, rest = cond.group(1), cond.group(2).strip()
            if kind in ("if", "ifdef", "ifndef"):
                skipping.append(kind == "if" and rest == "0")
            elif kind in ("elif", "else") and skipping:
                skipping[-1] = False if skipping[-1] else skipping[-1]
            elif kind == "endif" and skipping:
                skipping.pop()
            continue
        if any(skipping):
            continue
        m = DIRECTIVE.match(logical)
        if not m:
            continue
        header = HEADER.match(m.group(2).strip())
        yield lineno, header.group(1) if header else None


def rule_for(rel):
    best = None
    for folder in RULES:
        if rel.startswith(folder) and (best is None or len(folder) > len(best)):
            best = folder
    return best


def check(root):
    violations = []
    checked = 0
    for top in ("model", "storage", "server", "client"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if not name.endswith(EXTENSIONS):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                folder = rule_for(rel)
                if folder is None:
                    continue
                checked += 1
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                for lineno, header in includes(text):
                    if header is None:
                        violations.append(f"{rel}:{lineno}: a computed include (through a "
                                          f"macro), which the layering check cannot read")
                        continue
                    # A quoted include may be relative to the file: check where it lands.
                    names = [header]
                    resolved = os.path.normpath(os.path.join(os.path.dirname(rel), header))
                    if not resolved.startswith(".."):
                        names.append(resolved.replace(os.sep, "/"))
                    names.append(os.path.normpath(header).replace(os.sep, "/"))
                    hit = next((p for p in RULES[folder] for h in names if re.search(p, h)),
                               None)
                    if hit:
                        violations.append(f"{rel}:{lineno}: includes {header}, which {folder} "
                                          f"must not (pattern {hit})")
    return checked, violations


# (folder/file, source, expected violations): the self-test's table.
SELF_TEST = [
    ("model/ok.h", '#include "model/hash.h"\n#include <vector>\n#include "Eigen/Core"\n', 0),
    ("model/a.h", '#include "rocksdb/db.h"\n', 1),
    ("model/b.h", '#include <streamrec/v1/streamrec.pb.h>\n', 1),
    ("model/c.cc", '#  include   <grpcpp/grpcpp.h>\n', 1),
    ("model/d.cc", '%:include "storage/database.h"\n', 1),
    ("model/e.cc", '#include_next "server/limits.h"\n', 1),
    ("model/f.cc", '#include \\\n  "rocksdb/db.h"\n', 1),
    ("model/g.cc", '\ufeff#include "rocksdb/db.h"\n', 1),
    ("model/h.cc", '#define H "rocksdb/db.h"\n#include H\n', 1),
    ("model/i.hpp", '#include "rocksdb/db.h"\n', 1),
    ("model/j.cc", '/* x */ #include "rocksdb/db.h"\n', 1),
    ("model/k.cc", '// #include "rocksdb/db.h"\n/* a\n#include "rocksdb/db.h"\n*/\n', 0),
    ("model/l.cc", '#if 0\n#include "rocksdb/db.h"\n#endif\n#include "model/hash.h"\n', 0),
    ("model/m.cc", '#if 0\n#else\n#include "rocksdb/db.h"\n#endif\n', 1),
    ("model/n.cc", 'const char* s = "#include \\"rocksdb/db.h\\"";\n', 0),
    ("server/core/a.cc", '#include "../../storage/event_log.h"\n', 1),
    ("server/core/b.cc", '#include "server/core/../../storage/event_log.h"\n', 1),
    ("server/core/c.cc", '#include "server/ingest.h"\n', 1),
    ("server/core/d.cc", '#include "server/core/mutex.h"\n#include "model/model.h"\n', 0),
    ("server/a.cc", '#include <grpcpp/grpcpp.h>\n#include "storage/database.h"\n', 0),
    ("server/b.cc", '#include "rocksdb/db.h"\n', 1),
    ("storage/a.cc", '#include "rocksdb/db.h"\n#include "model/model.h"\n', 0),
    ("storage/b.cc", '#include "grpcpp/grpcpp.h"\n', 1),
    ("storage/c.cc", '#include "server/limits.h"\n', 1),
    ("client/a.cc", '#include "streamrec/v1/streamrec.grpc.pb.h"\n', 0),
    ("client/b.cc", '#include "model/hash.h"\n', 1),
]


def self_test():
    failures = []
    for rel, source, expected in SELF_TEST:
        with tempfile.TemporaryDirectory() as root:
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path))
            with open(path, "w", encoding="utf-8") as f:
                f.write(source)
            checked, violations = check(root)
            if checked != 1 or len(violations) != expected:
                failures.append(f"{rel}: {source!r}: expected {expected} violation(s), got "
                                f"{violations}")
    for f in failures:
        print("self-test:", f)
    if failures:
        raise SystemExit(1)
    print(f"check_layering self-test: {len(SELF_TEST)} cases, each caught or allowed as it "
          "should be")


def main():
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return 0
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    checked, violations = check(os.path.abspath(root))
    if checked == 0:
        print("check_layering: no source files found under", root)
        return 1
    for v in violations:
        print(v)
    if violations:
        print(f"check_layering: {len(violations)} violation(s) in {checked} files")
        return 1
    print(f"check_layering: {checked} files, every layer's includes allowed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
