#!/usr/bin/env bash
# Regenerate the dashboard's typed API client (web/src/lib/api-schema.ts) from the app's OpenAPI schema.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
FVI_HOME="$tmp/home" .venv/bin/python -c 'import json, sys
from fvi.api.app import create_app
json.dump(create_app().openapi(), sys.stdout)' > "$tmp/openapi.json"
(cd web && npx --no-install openapi-typescript "$tmp/openapi.json" -o src/lib/api-schema.ts)
