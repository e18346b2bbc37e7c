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

# pgvector (the chat's vector store in the server profile). Not packaged for this Debian release, so it
# is built from Debian's own source package of a newer release (trixie) against postgresql-server-dev-N:
# apt fetches the .dsc and tarballs with a private source list and state dir (the system's apt sources
# and lists stay as they are), dpkg-source checks and unpacks them, pgxs builds and installs. Nothing but
# Debian's registry is used; a no-op once vector.control and vector.so are installed.
pgvector_install() {
  local ver pgc share lib work opts
  ver="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)"
  [ -n "$ver" ] || { echo "pgvector: no PostgreSQL cluster found: skipped"; return 0; }
  pgc="/usr/lib/postgresql/$ver/bin/pg_config"
  share="/usr/share/postgresql/$ver/extension"
  lib="/usr/lib/postgresql/$ver/lib"
  if [ -f "$share/vector.control" ] && [ -f "$lib/vector.so" ]; then
    echo "pgvector: present ($(sed -n "s/^default_version = '\(.*\)'/\1/p" "$share/vector.control"), PostgreSQL $ver)"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
    echo "pgvector: missing (run scripts/services.sh as root with apt to build it; pgvector tests will fail)"
    return 0
  fi
  # pg_config alone is not enough: postgresql-client ships it without the server headers pgxs builds against
  if [ ! -x "$pgc" ] || [ ! -f "/usr/include/postgresql/$ver/server/postgres.h" ] || ! command -v make >/dev/null 2>&1 \
       || ! command -v gcc >/dev/null 2>&1 || ! command -v dpkg-source >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "postgresql-server-dev-$ver" make gcc dpkg-dev >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
             --no-install-recommends "postgresql-server-dev-$ver" make gcc dpkg-dev >/dev/null 2>&1; } \
      || { echo "pgvector: could not install postgresql-server-dev-$ver: not built"; return 0; }
  fi
  work="$(mktemp -d /tmp/fvi-pgvector.XXXXXX)"
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian ${FVI_PGVECTOR_SUITE:-trixie} main" \
    > "$work/sources.list"
  opts=(-q -o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=$work/none"
        -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "APT::Sandbox::User=root")
  if apt-get "${opts[@]}" update >"$work/log" 2>&1 \
     && (cd "$work/src" && apt-get "${opts[@]}" --download-only source pgvector >>"$work/log" 2>&1) \
     && (cd "$work/src" && dpkg-source -x ./pgvector_*.dsc pgvector >>"$work/log" 2>&1) \
     && make -C "$work/src/pgvector" -s -j2 PG_CONFIG="$pgc" OPTFLAGS="" >>"$work/log" 2>&1 \
     && make -C "$work/src/pgvector" -s install PG_CONFIG="$pgc" OPTFLAGS="" >>"$work/log" 2>&1; then
    echo "pgvector: built from Debian source $(basename "$work"/src/pgvector_*.dsc .dsc) for PostgreSQL $ver"
    rm -rf "$work"
  else
    echo "pgvector: build failed (log kept in $work/log); the chat's server profile falls back to BM25"
  fi
}
pgvector_install

if command -v redis-cli >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && echo "redis: up" || echo "redis: not available"
exit 0
