#!/usr/bin/python3
"""The container image's runtime package list against what the binaries really load.

  check_runtime_packages.py --packages deploy/runtime-packages.txt \
      --dockerfile deploy/Dockerfile BINARY...
runs `ldd` on each binary, maps every shared library it needs to its Debian package with
`dpkg -S`, and fails (exit 1), naming the library, the package and the binary, when a
package is missing from the list, when the list names a -dev package, or when the
Dockerfile does not install the list. `--self-test` (same arguments) shows the check
catches a missing package: it removes each needed package in turn from a copy of the
list (and comments one out, and adds a -dev one) and requires a failure naming it.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

LIST_NAME = "runtime-packages.txt"


def parse_list(path):
    """Package names in a list file: whitespace-separated, `#` starts a comment."""
    names = []
    with open(path) as f:
        for line in f:
            names.extend(line.split("#", 1)[0].split())
    return names


def needed_libraries(binaries):
    """{library path: [binaries needing it]} from ldd; exits naming unresolved ones."""
    libs, errors = {}, []
    for binary in binaries:
        r = subprocess.run(["ldd", binary], capture_output=True, text=True)
        if r.returncode != 0:
            errors.append(f"ldd {binary} failed: {(r.stdout + r.stderr).strip()}")
            continue
        for line in r.stdout.splitlines():
            line = line.strip()
            m = re.match(r"(\S+) => not found", line)
            if m:
                errors.append(f"{binary}: {m.group(1)} not found by ldd")
                continue
            m = re.match(r"(?:\S+ => )?(/\S+) \(0x[0-9a-f]+\)$", line)
            if m:  # linux-vdso.so.1 has no file and no package
                libs.setdefault(m.group(1), []).append(os.path.basename(binary))
    if errors:
        sys.exit("\n".join(errors))
    return libs


def candidates(path):
    """Names dpkg may know a library by: Debian 12 merges /lib into /usr/lib, but each
    package records the path it ships (ldd reports /lib/..., most packages /usr/lib/...),
    and a soname may be a symlink to the real file."""
    out = []
    for p in (path, os.path.realpath(path)):
        for q in (p, p[len("/usr"):] if p.startswith("/usr/") else "/usr" + p):
            if q not in out:
                out.append(q)
    return out


def owners(libs):
    """{library path: package name without :arch}; exits naming libraries no package holds."""
    wanted = {lib: candidates(lib) for lib in libs}
    paths = sorted({c for cs in wanted.values() for c in cs})
    r = subprocess.run(["dpkg", "-S"] + paths, capture_output=True, text=True)
    by_path = {}
    for line in r.stdout.splitlines():
        if line.startswith("diversion "):
            continue
        pkgs, _, path = line.partition(": /")
        if path:
            by_path["/" + path] = [p.strip().split(":")[0] for p in pkgs.split(",")]
    result, errors = {}, []
    for lib, cs in wanted.items():
        found = next((by_path[c][0] for c in cs if c in by_path), None)
        if found is None:
            errors.append(f"{lib}: no Debian package holds it (dpkg -S {' '.join(cs)})")
        else:
            result[lib] = found
    if errors:
        sys.exit("\n".join(errors))
    return result


def problems(libs, lib_package, listed, dockerfile_text=None):
    """Messages for each needed package missing from `listed` and each -dev one in it."""
    out = []
    listed_set = set(listed)
    for lib in sorted(libs):
        pkg = lib_package[lib]
        if pkg not in listed_set:
            out.append(f"missing package {pkg}: it holds {lib}, needed by "
                       f"{', '.join(sorted(set(libs[lib])))}")
    for name in listed:
        if re.search(r"-dev(:[a-z0-9]+)?$", name):
            out.append(f"-dev package {name} in the runtime list (build stage only)")
    if dockerfile_text is not None:
        if not re.search(r"COPY\s+\S*" + re.escape(LIST_NAME), dockerfile_text) or \
                not re.search(re.escape(LIST_NAME) + r".*\|\s*xargs\s+apt-get\s+install",
                              dockerfile_text):
            out.append(f"the Dockerfile does not COPY {LIST_NAME} and install it with "
                       "xargs apt-get install")
    return out


def self_test(libs, lib_package, list_path, script_args):
    listed = parse_list(list_path)
    assert not problems(libs, lib_package, listed), "the real list must pass first"
    text = open(list_path).read()
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, LIST_NAME)

        def check(new_text, must_name, what):
            with open(copy, "w") as f:
                f.write(new_text)
            found = problems(libs, lib_package, parse_list(copy))
            if not any(must_name in p for p in found):
                failures.append(f"{what}: not caught (problems: {found})")

        for pkg in sorted(set(lib_package.values())):
            removed = re.sub(rf"^{re.escape(pkg)}\s*$", "", text, flags=re.M)
            assert removed != text, f"{pkg} is not on a line of its own in {list_path}"
            check(removed, f"missing package {pkg}:", f"{pkg} removed")
            check(re.sub(rf"^{re.escape(pkg)}\s*$", f"# {pkg}", text, flags=re.M),
                  f"missing package {pkg}:", f"{pkg} commented out")
        check(text + "librocksdb-dev\n", "-dev package librocksdb-dev", "a -dev package added")

        # The command line too: exit status 1 and the library named on stderr.
        rocks = next(lib for lib, pkg in lib_package.items() if pkg.startswith("librocksdb"))
        with open(copy, "w") as f:
            f.write(re.sub(rf"^{re.escape(lib_package[rocks])}\s*$", "", text, flags=re.M))
        r = subprocess.run([sys.executable, __file__, "--packages", copy] + script_args,
                           capture_output=True, text=True)
        if r.returncode != 1 or rocks not in r.stderr:
            failures.append(f"command line with librocksdb removed: exit {r.returncode}, "
                            f"stderr {r.stderr!r}")
        with open(copy, "w") as f:
            f.write(text)
        broken = os.path.join(tmp, "Dockerfile")
        with open(broken, "w") as f:
            f.write("FROM debian:12\nRUN apt-get install -y libc6\n")
        r = subprocess.run([sys.executable, __file__, "--packages", copy,
                            "--dockerfile", broken] + script_args, capture_output=True, text=True)
        if r.returncode != 1 or "does not COPY" not in r.stderr:
            failures.append(f"a Dockerfile ignoring the list: exit {r.returncode}")
    if failures:
        sys.exit("self-test FAILED:\n" + "\n".join(failures))
    print(f"self-test ok: each of {len(set(lib_package.values()))} needed packages removed "
          "or commented out is caught, a -dev package is caught, the command line exits 1")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packages", required=True, help="the runtime package list")
    ap.add_argument("--dockerfile", help="the Dockerfile that must install the list")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("binaries", nargs="+")
    args = ap.parse_args()
    libs = needed_libraries(args.binaries)
    lib_package = owners(libs)
    if args.self_test:
        self_test(libs, lib_package, args.packages, args.binaries)
        return
    dockerfile_text = open(args.dockerfile).read() if args.dockerfile else None
    found = problems(libs, lib_package, parse_list(args.packages), dockerfile_text)
    if found:
        print(f"{args.packages}:", file=sys.stderr)
        print("\n".join(found), file=sys.stderr)
        sys.exit(1)
    print(f"ok: {len(libs)} libraries of {len(args.binaries)} binaries, all from the "
          f"{len(set(lib_package.values()))} packages listed in {args.packages}")


if __name__ == "__main__":
    main()
