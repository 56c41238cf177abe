#!/usr/bin/env bash
# The demo store of compose.yaml's `demo` profile (also runnable by hand): makes sure the demo site exists at the
# centre, enrolls the store's agent once with a fresh one-time token, then runs scripts/demo-site.ts (simulated
# ONVIF cameras, a simulated PBX and a real edge agent) in the foreground until it is stopped.
#   MAMORU_SERVER_URL  the centre (required), e.g. http://server:8080
#   DATABASE_URL       the centre's database, for the admin CLI (site and enrollment token; required)
#   DEMO_DIR           the store's folder: spool, agent state, camera password (default /var/lib/mamoru-agent)
#   DEMO_SITE_CODE     default demo-shibuya; DEMO_CAMERAS default 2
set -euo pipefail
cd "$(dirname "$0")/.."
: "${MAMORU_SERVER_URL:?set MAMORU_SERVER_URL to the centre, e.g. http://server:8080}"
: "${DATABASE_URL:?set DATABASE_URL to the centre database (for the admin CLI)}"
DIR=${DEMO_DIR:-/var/lib/mamoru-agent}
SITE=${DEMO_SITE_CODE:-demo-shibuya}
mkdir -p "$DIR"

admin() { node --import tsx server/src/cli/admin.ts "$@"; }
# site:create refuses an existing code; the site list tells whether it is there.
if ! admin site:list | grep -qw -- "$SITE"; then
  admin site:create --code "$SITE" --name "さくらストア 渋谷店" --timezone Asia/Tokyo
fi
args=(--server "$MAMORU_SERVER_URL" --dir "$DIR" --cameras "${DEMO_CAMERAS:-2}")
if [ ! -f "$DIR/agent-state/credential.json" ]; then
  token=$(admin token:issue --site "$SITE" --ttl 600 | head -1)
  args+=(--token "$token")
fi
exec node --import tsx scripts/demo-site.ts "${args[@]}"
