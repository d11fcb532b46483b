#!/usr/bin/env bash
# deploy/smoke_test_rootfs.sh [BUILD_DIR]: the image's runtime stage for real, without a
# container engine. Builds a Debian 12 root filesystem with mmdebstrap from exactly the
# packages of deploy/runtime-packages.txt (variant minbase, plus passwd for useradd, which
# debian:12 has), copies in what `cmake --install BUILD_DIR` installs, creates the
# Dockerfile's user and data dir, starts streamrec-server in a chroot as uid 10001 on
# /var/lib/streamrec and a free loopback port, calls health, observe, predict and info with
# the CLI inside the chroot and from the host, and stops the server with SIGTERM (exit 0).
# NOT run by CI: needs root (chroot, mount) and network access to the Debian mirror
# (MIRROR, default http://deb.debian.org). KEEP=1 keeps the temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
MIRROR=${MIRROR:-http://deb.debian.org}

[ "$(id -u)" -eq 0 ] || { echo "needs root (mmdebstrap, chroot, mount)" >&2; exit 2; }
command -v mmdebstrap >/dev/null || { echo "needs mmdebstrap: apt-get install mmdebstrap" >&2; exit 2; }
for b in streamrec-server streamrec streamrec-verify; do
  [ -x "$BUILD/bin/$b" ] || { echo "$BUILD/bin/$b missing: build it first" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/streamrec-rootfs.XXXXXX)
ROOTFS=$WORK/rootfs
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill -KILL "$SERVER_PID" 2>/dev/null || true
  mountpoint -q "$ROOTFS/proc" && umount "$ROOTFS/proc"
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
as_user() { chroot --userspec=10001:10001 "$ROOTFS" env -i PATH=/usr/local/bin:/usr/bin:/bin "$@"; }

# The same parsing as the Dockerfile's `sed 's/#.*//' ... | xargs apt-get install`.
PACKAGES=$(sed 's/#.*//' deploy/runtime-packages.txt | xargs)
echo "== mmdebstrap bookworm minbase + passwd + $(wc -w <<<"$PACKAGES") runtime packages: $PACKAGES"
mmdebstrap --quiet --variant=minbase --include="passwd,${PACKAGES// /,}" bookworm "$ROOTFS" \
  "deb $MIRROR/debian bookworm main" "deb $MIRROR/debian bookworm-updates main" \
  "deb $MIRROR/debian-security bookworm-security main"

echo "== cmake --install $BUILD into a staging prefix, copied into the root filesystem"
cmake --install "$BUILD" --prefix "$WORK/staging/usr/local" >/dev/null
cp -a "$WORK/staging/." "$ROOTFS/"
# As the Dockerfile's runtime stage does (keep the two in step).
chroot "$ROOTFS" groupadd --gid 10001 streamrec
chroot "$ROOTFS" useradd --no-log-init --uid 10001 --gid 10001 --home-dir /var/lib/streamrec \
  --no-create-home --shell /usr/sbin/nologin streamrec
chroot "$ROOTFS" install -d -o 10001 -g 10001 -m 0750 /var/lib/streamrec
mount -t proc proc "$ROOTFS/proc"
echo "root filesystem: $(du -sh --exclude=proc "$ROOTFS" | cut -f1)," \
     "$(chroot "$ROOTFS" dpkg-query -W -f='.\n' | wc -l) packages"

echo "== every library resolves inside the root filesystem"
if chroot "$ROOTFS" sh -c 'ldd /usr/local/bin/*' | grep 'not found'; then
  echo "FAIL: libraries missing from the root filesystem" >&2; exit 1
fi

# Listeners the server has besides gRPC (--admin_listen, --metrics_listen: issue 11) go on
# free loopback ports too, so the test never collides with anything on the host.
EXTRA=()
HELP=$(as_user streamrec-server --help 2>&1 || true)
for flag in admin_listen metrics_listen; do
  grep -q -- "-$flag" <<<"$HELP" && EXTRA+=("--$flag=127.0.0.1:0")
done

echo "== streamrec-server as uid 10001: --data_dir=/var/lib/streamrec --listen=127.0.0.1:0 ${EXTRA[*]}"
# chroot and env exec, so $! is the server's own pid (a backgrounded function would not be).
chroot --userspec=10001:10001 "$ROOTFS" env -i PATH=/usr/local/bin:/usr/bin:/bin \
  streamrec-server --data_dir=/var/lib/streamrec --listen=127.0.0.1:0 "${EXTRA[@]}" \
  2>"$WORK/server.log" &
SERVER_PID=$!
PORT=""
for _ in $(seq 300); do
  grep -q '"msg":"ready"\| INFO ready' "$WORK/server.log" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; echo "FAIL: server exited" >&2; exit 1; }
  sleep 0.1
done
PORT=$(grep -o '"port":[0-9]*' "$WORK/server.log" | head -1 | cut -d: -f2)
[ -n "$PORT" ] || { cat "$WORK/server.log" >&2; echo "FAIL: no startup record" >&2; exit 1; }
head -c 400 "$WORK/server.log"; echo
echo "server pid $SERVER_PID runs as uid $(stat -c %u /proc/$SERVER_PID), gRPC port $PORT"

echo "== the CLI inside the root filesystem, as uid 10001"
as_user streamrec --server "127.0.0.1:$PORT" health
as_user streamrec --server "127.0.0.1:$PORT" observe user=u1 --item m2 --label 1
as_user streamrec --server "127.0.0.1:$PORT" predict user=u1 --item m1 --item m2
as_user streamrec --server "127.0.0.1:$PORT" info
echo "== the CLI from the host"
"$BUILD/bin/streamrec" --server "127.0.0.1:$PORT" health

echo "== SIGTERM"
kill -TERM "$SERVER_PID"
rc=0; wait "$SERVER_PID" || rc=$?
SERVER_PID=""
tail -n 2 "$WORK/server.log"
[ "$rc" -eq 0 ] || { echo "FAIL: server exit status $rc" >&2; exit 1; }
echo "data dir: $(find "$ROOTFS/var/lib/streamrec" -mindepth 1 | wc -l) files, owners" \
     "$(find "$ROOTFS/var/lib/streamrec" -printf '%u:%g\n' | sort -u | xargs)"
echo "PASS: server exit status 0"
