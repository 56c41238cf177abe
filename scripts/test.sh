#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what is missing, starts the services, type-checks, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --no-demo
echo "== typecheck"
npx tsc -p tsconfig.json
echo "== web API types (web/src/lib/api/schema.d.ts) match the server's OpenAPI document"
node --import tsx scripts/gen-api.ts --check
echo "== web: svelte-check and build (the e2e tests serve web/build)"
if ! out=$(npm run --silent check -w web 2>&1); then echo "$out" >&2; exit 1; fi
echo "$out" | grep 'svelte-check found' || true
rm -rf web/build
if ! out=$(npm run --silent build -w web 2>&1); then echo "$out" >&2; exit 1; fi
echo "$out" | grep -E '✓ built|Wrote site' || true
test -f web/build/index.html || { echo "web build missing" >&2; exit 1; }
echo "== compose.yaml"
if command -v docker-compose >/dev/null; then docker-compose --env-file .env.example -f compose.yaml config -q && echo "compose.yaml valid"; else echo "docker-compose missing" >&2; exit 1; fi
echo "== unit and integration tests"
# Browser tests that measure playback timing (media in sync within 0.1 s) run last, one at a time, so that no other
# test file competes with them for the two cores.
SOLO=(e2e/case-player.test.ts e2e/hls-playback.test.ts)
mapfile -t files < <(find contract/test server/test edge-agent/test test-support/test web/test e2e scripts -name '*.test.ts' 2>/dev/null | sort | grep -vxF -f <(printf '%s\n' "${SOLO[@]}"))
for f in "${SOLO[@]}"; do test -f "$f" || { echo "missing test file $f" >&2; exit 1; }; done
if [ "${#files[@]}" -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
printf '  %s\n' "${files[@]}" "${SOLO[@]}"
# Test files run two at a time: each has its own database and bucket.
node --import tsx --test --test-concurrency=2 --test-reporter=spec "${files[@]}"
echo "== playback timing in Chromium (one file at a time)"
node --import tsx --test --test-concurrency=1 --test-reporter=spec "${SOLO[@]}"
