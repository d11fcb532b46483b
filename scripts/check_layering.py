#!/usr/bin/env python3
"""Layering check: reads every #include in the source folders and fails if a folder
includes what its layer must not see (README "Design").

    model/        pure computation: no proto, protobuf, gRPC, RocksDB; nothing of
                  storage/, server/ or client/
    storage/      the model and RocksDB: no proto, protobuf, gRPC; nothing of server/ or
                  client/
    server/core/  the pipeline (queue, updater, log writer, slot): no proto, protobuf,
                  gRPC, RocksDB; nothing of storage/ or client/ (storage reaches it
                  through callbacks the server wires)
    server/       no RocksDB header (RocksDB types stay in storage/), nothing of client/
    client/       the proto and its own files only

Usage: check_layering.py [ROOT]        (ROOT: the checkout, default: this script's ../)
       check_layering.py --self-test   (a violation in a scratch tree must be caught)
Exit 0 when every rule holds; 1 with one line per violation (file:line: include, rule).
"""
import os
import re
import sys
import tempfile

PROTO = (r"^streamrec/v1/", r"\.pb\.h$", r"^google/protobuf/")
GRPC = (r"^grpc", r"^grpcpp/")
ROCKSDB = (r"^rocksdb/",)

# Folder -> forbidden include patterns. The longest matching folder applies.
RULES = {
    "model/": PROTO + GRPC + ROCKSDB + (r"^storage/", r"^server/", r"^client/"),
    "storage/": PROTO + GRPC + (r"^server/", r"^client/"),
    "server/core/": PROTO + GRPC + ROCKSDB + (r"^storage/", r"^client/"),
    "server/": ROCKSDB + (r"^client/",),
    "client/": ROCKSDB + (r"^model/", r"^storage/", r"^server/", r"^Eigen/"),
}

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')


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
                if not name.endswith((".h", ".cc")):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                folder = rule_for(rel)
                if folder is None:
                    continue
                checked += 1
                with open(path, encoding="utf-8", errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        for pattern in RULES[folder]:
                            if re.search(pattern, m.group(1)):
                                violations.append(
                                    f"{rel}:{lineno}: includes {m.group(1)}, which {folder} "
                                    f"must not (pattern {pattern})")
                                break
    return checked, violations


def self_test():
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "model"))
        os.makedirs(os.path.join(root, "server", "core"))
        with open(os.path.join(root, "model", "ok.h"), "w") as f:
            f.write('#include "model/hash.h"\n#include <vector>\n')
        with open(os.path.join(root, "server", "core", "bad.cc"), "w") as f:
            f.write('#include "server/core/mutex.h"\n#include <grpcpp/grpcpp.h>\n')
        with open(os.path.join(root, "server", "ok.cc"), "w") as f:
            f.write('#include <grpcpp/grpcpp.h>\n')
        checked, violations = check(root)
        assert checked == 3, checked
        assert len(violations) == 1 and violations[0].startswith("server/core/bad.cc:2:"), violations
    print("check_layering self-test: a violation is caught, allowed includes pass")


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
