#!/usr/bin/env bash
# Build the dashboard (web/, Next.js static export) into the Python package's static folder,
# only when web/ changed since the last build (content hash stamp); npm ci only when the lock changed.
set -euo pipefail
cd "$(dirname "$0")/.."
WEB=web
OUT=src/fvi/api/static/web
STAMP="$OUT/.fvi-web-hash"
export NEXT_TELEMETRY_DISABLED=1 npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

[ -d "$WEB" ] || { echo "web: no web/ folder, nothing to build"; exit 0; }
command -v npm >/dev/null 2>&1 || { echo "web: npm not found (Node 20 + npm are needed to build the dashboard)" >&2; exit 1; }

# every source file of web/ (not installed packages, build output or test artefacts), name and content
hash=$(cd "$WEB" && find . -type f \
  -not -path './node_modules/*' -not -path './.next/*' -not -path './out/*' \
  -not -path './test-results/*' -not -path './playwright-report/*' -not -name '*.tsbuildinfo' \
  -not -name 'openapi.json' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$hash" ] && [ -f "$OUT/index.html" ]; then
  echo "web: dashboard up to date ($OUT)"
  exit 0
fi

lock=$(sha256sum "$WEB/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$WEB/node_modules/.fvi-lock-hash" ] || [ "$(cat "$WEB/node_modules/.fvi-lock-hash")" != "$lock" ]; then
  t0=$(date +%s)
  (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock" > "$WEB/node_modules/.fvi-lock-hash"
  echo "web: npm ci in $(( $(date +%s) - t0 )) s"
fi

t0=$(date +%s)
(cd "$WEB" && npx --no-install next build)
rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
cp -r "$WEB/out" "$OUT"
echo "$hash" > "$STAMP"
echo "web: next build in $(( $(date +%s) - t0 )) s -> $OUT"
