#!/usr/bin/env bash
# Brings up the whole system with a demo store on this machine: PostgreSQL, Redis, S3 (Ceph radosgw with Object
# Lock, its OSD on bluestore in a sparse file under .data/rgw-bluestore, so the footage survives a restart), the centre's
# server and worker, and a simulated store (fake ONVIF cameras + fake PBX) recorded by a real edge agent.
# Idempotent: running it again keeps what runs and starts what does not.   Stop: npm run demo:stop
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD; RUN=$ROOT/.run; DEMO=$ROOT/.data/demo; LOGS=$RUN/logs
mkdir -p "$RUN" "$DEMO" "$LOGS"
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
# The demo's own S3: radosgw on bluestore (kept across restarts), apart from the tests' memstore cluster.
DEMO_RGW_PORT=${MAMORU_DEMO_RGW_PORT:-7580}; DEMO_MON_PORT=${MAMORU_DEMO_MON_PORT:-7589}

stop_all() {
  for p in demo-site agent server worker; do
    if alive "$RUN/$p.pid"; then kill "$(cat "$RUN/$p.pid")" 2>/dev/null || true; fi
  done
  for _ in $(seq 100); do
    any=0; for p in demo-site server worker; do alive "$RUN/$p.pid" && any=1; done
    [ $any = 0 ] && break; sleep 0.2
  done
  rm -f "$RUN"/{demo-site,server,worker}.pid
  bash scripts/rgw.sh stop --store bluestore --port "$DEMO_RGW_PORT" --mon-port "$DEMO_MON_PORT"
  echo "demo stopped (its S3 data stays in .data/rgw-bluestore; the test services keep running: bash scripts/services.sh stop)"
}
if [ "${1:-}" = stop ]; then stop_all; exit 0; fi

bash scripts/setup.sh
echo "== demo S3 (radosgw, bluestore)"
bash scripts/rgw.sh start --store bluestore --port "$DEMO_RGW_PORT" --mon-port "$DEMO_MON_PORT" | grep -v ' at [0-9.]* s$'
echo "== web build"
if [ ! -f web/build/index.html ] || [ -n "$(find web/src web/package.json -newer web/build/index.html -print -quit)" ]; then npm run -s build -w web >"$LOGS/web-build.log" 2>&1; fi

# Secrets, generated once for this machine's demo.
if [ ! -f "$RUN/demo.env" ]; then
  umask 077
  cat >"$RUN/demo.env" <<ENV
DATABASE_URL=postgres://mamoru:mamoru@127.0.0.1:5432/mamoru
REDIS_URL=redis://127.0.0.1:6379
S3_BUCKET=mamoru-demo
QUEUE_PREFIX=mamoru-demo
HOST=127.0.0.1
PORT=8080
ADMIN_TOKEN=
MEDIA_LINK_SECRET=$(openssl rand -hex 32)
WEB_ROOT=$ROOT/web/build
ENV
fi
set -a; . "$RUN/demo.env"; . .data/rgw-bluestore/s3.env; set +a
URL="http://127.0.0.1:$PORT"

start() { # name, script
  if ! alive "$RUN/$1.pid"; then
    nohup node --import tsx "$2" >>"$LOGS/$1.log" 2>&1 &
    echo $! >"$RUN/$1.pid"
  fi
}
echo "== centre"
npm run -s migrate >>"$LOGS/migrate.log" 2>&1
start server server/src/main.ts
start worker server/src/worker.ts
for _ in $(seq 150); do curl -fsS "$URL/api/v1/health" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "$URL/api/v1/health" >/dev/null || { echo "server did not become healthy; see $LOGS/server.log" >&2; exit 1; }

# The admin CLI's own exit status counts (pipefail); only npm's config warning is filtered out.
admin() { npm run -s admin -- "$@" 2>&1 | { grep -v 'Unknown user config' || true; }; }
admin site:create --code demo-shibuya --name "さくらストア 渋谷店" --timezone Asia/Tokyo >/dev/null
# Demo people, one per role, passwords generated once and kept in .run/demo-users.txt.
if [ ! -f "$RUN/demo-users.txt" ]; then
  umask 077; : >"$RUN/demo-users.txt.new"
  # Logins need at least 3 characters (docs/security.md); a failure stops the demo rather than printing a user that does not exist.
  for spec in "honbu:本部 法務:hq:" "tencho:渋谷店 店長:store_manager:demo-shibuya" "keibi:警備 担当:security:demo-shibuya" "kansa:監査 担当:auditor:" "admin:システム管理者:admin:"; do
    IFS=: read -r login name role sites <<<"$spec"
    pw=$(openssl rand -base64 12 | tr -d '/+=')
    printf '%s\n' "$pw" >"$RUN/.pw"
    admin user:create --login "$login" --name "$name" --role "$role" ${sites:+--sites "$sites"} --password-file "$RUN/.pw" >/dev/null
    printf '%-8s %-14s %s\n' "$login" "$role" "$pw" >>"$RUN/demo-users.txt.new"
  done
  rm -f "$RUN/.pw"
  mv "$RUN/demo-users.txt.new" "$RUN/demo-users.txt"
fi

echo "== demo store"
if ! alive "$RUN/demo-site.pid"; then
  TOKEN_ARG=()
  if [ ! -f "$DEMO/agent-state/credential.json" ]; then
    TOKEN=$(admin token:issue --site demo-shibuya --ttl 600 | head -1)
    TOKEN_ARG=(--token "$TOKEN")
  fi
  nohup node --import tsx scripts/demo-site.ts --server "$URL" --dir "$DEMO" "${TOKEN_ARG[@]}" >>"$LOGS/demo-site.log" 2>&1 &
  echo $! >"$RUN/demo-site.pid"
fi

echo "== demo incident (filed from the first answered call that reaches the centre)"
awk '$1 == "tencho" { print $3 }' "$RUN/demo-users.txt" >"$RUN/.pw"
node --import tsx scripts/demo-incident.ts --server "$URL" --login tencho --password-file "$RUN/.pw" --timeout 300 || { rm -f "$RUN/.pw"; echo "could not file the demo incident; see $LOGS/demo-site.log" >&2; exit 1; }
rm -f "$RUN/.pw"

cat <<INFO

Mamoru demo is up.
  web viewer   $URL/            (sign in with a user below; footage appears within about two minutes)
  API docs     $URL/api/v1/openapi.json
  users        $RUN/demo-users.txt
$(sed 's/^/               /' "$RUN/demo-users.txt")
  S3           $S3_ENDPOINT (radosgw, Object Lock; keys in .data/rgw-bluestore/s3.env)
  logs         $LOGS/{server,worker,demo-site}.log
  demo store   $DEMO (agent config agent.json, spool, fake PBX)
  stop         npm run demo:stop
INFO
