#!/usr/bin/env bash
# Installs the Debian 12 packages streamrec needs; a no-op when all are present.
# Sourced by scripts/test and scripts/run. Every package is listed in README.md.
set -euo pipefail

STREAMREC_PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache clang
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  golang-github-gogo-googleapis-dev
  libeigen3-dev libabsl-dev librocksdb-dev libgtest-dev libgmock-dev
  libxxhash-dev libbenchmark-dev libssl-dev openssl
  python3 python3-grpcio python3-protobuf
)

streamrec_install_deps() {
  local missing=()
  for p in "${STREAMREC_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  echo "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# streamrec_configure DIR [cmake args...]: configure DIR unless it already is (the
# arguments count only the first time; delete DIR to change them).
streamrec_configure() {
  local dir=$1
  shift
  local gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    cmake -S . -B "$dir" "${gen[@]}" "$@"
  fi
}

# streamrec_build DIR [cmake args...]: configure (once) and build with all cores.
streamrec_build() {
  streamrec_configure "$@"
  cmake --build "$1" -j "$(nproc)"
}
