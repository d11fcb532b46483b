#!/usr/bin/python3
"""syntax_check.py BUILD_DIR [JOBS]: compiles every translation unit of the project listed
in BUILD_DIR/compile_commands.json with -fsyntax-only (checks and warnings, no code),
JOBS at a time, and exits 1 if any fails or prints a diagnostic, so a warning fails it
even without -Werror. Generated code (under BUILD_DIR) is not the project's and is
skipped; generate it first (target streamrec_generated). Used by scripts/test
--thread-safety with a clang build dir configured with STREAMREC_THREAD_SAFETY=ON.
"""
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys


def command(entry):
    args = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
    if os.path.basename(args[0]) == "ccache":  # CMAKE_CXX_COMPILER_LAUNCHER
        args = args[1:]
    out = []
    skip = False
    for a in args:  # drop "-o FILE": nothing is written
        if skip:
            skip = False
        elif a == "-o":
            skip = True
        else:
            out.append(a)
    return out + ["-fsyntax-only"]


def main():
    build = os.path.abspath(sys.argv[1])
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else os.cpu_count()
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = [e for e in json.load(f)
                   if not os.path.abspath(os.path.join(e["directory"], e["file"]))
                   .startswith(build + os.sep)]

    def check(entry):
        p = subprocess.run(command(entry), cwd=entry["directory"], capture_output=True,
                           text=True)
        return entry["file"], p.returncode, p.stdout + p.stderr

    failed = 0
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for name, rc, output in pool.map(check, entries):
            if rc != 0 or output.strip():
                failed += 1
                print(f"FAILED {name}\n{output}", flush=True)
    print(f"syntax_check: {len(entries)} translation units, {failed} with diagnostics")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
