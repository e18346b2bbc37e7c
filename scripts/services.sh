#!/usr/bin/env bash
# Start the local PostgreSQL and Redis the server-profile tests use, if they are not running.
set -uo pipefail

# A system BLAS for PyTensor (the Bayesian step): Debian's OpenBLAS, installed once if missing.
if ! ldconfig -p 2>/dev/null | grep -q "libopenblas.so "; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libopenblas-dev >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
             --no-install-recommends libopenblas-dev >/dev/null 2>&1; } || true
  fi
fi
ldconfig -p 2>/dev/null | grep -q "libopenblas.so " && echo "openblas: present" \
  || echo "openblas: missing (the Bayesian step uses NumPy's slower C API; apt-get install libopenblas-dev)"

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if command -v pg_isready >/dev/null 2>&1 && ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
pg_up && echo "postgresql: up" || echo "postgresql: NOT available (server-profile tests will fail)"

if command -v redis-cli >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && echo "redis: up" || echo "redis: not available"
exit 0
