#!/usr/bin/env bash
# Installs the Debian 12 packages streamrec needs; a no-op when all are present.
# Sourced by scripts/test and scripts/run. Every package is listed in README.md; so are
# Node.js/npm and the npm packages of tests/k8s, installed here too (npm ci).
set -euo pipefail

STREAMREC_PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache clang
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  golang-github-gogo-googleapis-dev
  libeigen3-dev libabsl-dev librocksdb-dev libgtest-dev libgmock-dev
  libxxhash-dev libbenchmark-dev libssl-dev openssl libcpp-httplib-dev libsimdjson-dev
  python3 python3-grpcio python3-protobuf python3-prometheus-client
)

streamrec_install_deps() {
  local missing=()
  for p in "${STREAMREC_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  streamrec_install_node
  streamrec_install_npm_deps
}

# Node.js and npm, for the Kubernetes manifest tests (tests/k8s): Debian's nodejs and npm
# when either is missing from PATH (a Node.js installed otherwise, with its own npm, is
# used as it is: Debian's npm package would conflict with it).
streamrec_install_node() {
  if command -v node >/dev/null && command -v npm >/dev/null; then return 0; fi
  echo "installing: nodejs npm"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm
}

# The npm packages of tests/k8s (kubernetes-models, @kubernetes-models/validate, yaml,
# typescript), exactly as its package-lock.json says, into tests/k8s/node_modules (not in
# git); skipped while that directory was installed from the current lock file.
streamrec_install_npm_deps() {
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/k8s" && pwd)"
  local want stamp="$dir/node_modules/.streamrec-lock.sha256"
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  echo "installing: npm packages of tests/k8s (npm ci)"
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
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
