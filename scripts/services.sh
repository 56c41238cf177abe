#!/usr/bin/env bash
# Starts PostgreSQL, Redis, S3 and a private MariaDB (FreePBX's CDR database in the PBX tests) for dev and tests,
# idempotently. Prints where each one listens.
# S3 is Ceph radosgw with Object Lock on memstore (scripts/rgw.sh, :17480); MAMORU_S3=s3rver starts the s3rver fake
# on :9000 instead (no object lock, no versioning).
# Usage: scripts/services.sh [start|stop|status]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUN=$ROOT/.run; DATA=$ROOT/.data
mkdir -p "$RUN" "$DATA"
PGUSER_NAME=${MAMORU_PG_USER:-mamoru}; PGPASS=${MAMORU_PG_PASSWORD:-mamoru}
REDIS_PORT=${MAMORU_REDIS_PORT:-6379}; S3_PORT=${MAMORU_S3_PORT:-9000}
MARIADB_PORT=${MAMORU_MARIADB_PORT:-3307}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_pg() {
  if ! pg_lsclusters -h 2>/dev/null | awk '$1==15 && $2=="main" {print $4}' | grep -q online; then
    pg_ctlcluster 15 main start
  fi
  su postgres -c "psql -q -v ON_ERROR_STOP=1" <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PGUSER_NAME') THEN
    CREATE ROLE $PGUSER_NAME LOGIN PASSWORD '$PGPASS' CREATEDB;
  END IF;
END \$\$;
SQL
  for db in mamoru; do
    su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='$db'\"" | grep -q 1 \
      || su postgres -c "psql -q -c 'CREATE DATABASE $db OWNER $PGUSER_NAME'"
  done
  # btree_gist is trusted, but creating it in template1 lets every test database have it without a superuser.
  su postgres -c "psql -q -d template1 -c 'CREATE EXTENSION IF NOT EXISTS btree_gist'"
  su postgres -c "psql -q -d mamoru -c 'CREATE EXTENSION IF NOT EXISTS btree_gist'"
  echo "postgres: postgres://$PGUSER_NAME:***@127.0.0.1:5432/mamoru"
}

start_redis() {
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
      --pidfile "$RUN/redis.pid" --logfile "$RUN/redis.log" >/dev/null
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  echo "redis: redis://127.0.0.1:$REDIS_PORT"
}

start_s3() {
  if [ "${MAMORU_S3:-rgw}" = s3rver ]; then start_s3rver; return; fi
  # setup.sh may have started it in the background already (while npm installed): this waits for it or starts it.
  bash scripts/rgw.sh start --store memstore | grep -v ' at [0-9.]* s$' || { echo "S3 (radosgw) did not start: see .data/rgw-memstore/log" >&2; return 1; }
  echo "s3: http://127.0.0.1:${MAMORU_RGW_PORT:-17480} (radosgw, Object Lock; keys: bash scripts/rgw.sh env)"
}

start_s3rver() {
  # One S3 per port: another checkout's s3rver already answering is used as it is.
  if ! alive "$RUN/s3rver.pid" && ! curl -fsS -o /dev/null "http://127.0.0.1:$S3_PORT/" 2>/dev/null; then
    S3_PORT=$S3_PORT S3_DIR=$DATA/s3 nohup node --import tsx test-support/src/s3rver.ts >"$RUN/s3rver.log" 2>&1 &
    echo $! >"$RUN/s3rver.pid"
  fi
  for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$S3_PORT/" 2>/dev/null && break; sleep 0.1; done
  echo "s3: http://127.0.0.1:$S3_PORT (s3rver, log $RUN/s3rver.log)"
}

# A private MariaDB (its own data folder, socket and port; never the system's /var/lib/mysql), with an admin user the
# PBX tests use to create a FreePBX-like asteriskcdrdb and a read-only account per test (test-support/src/mariadb.ts).
start_mariadb() {
  local dir=$DATA/mariadb-$MARIADB_PORT sock=$RUN/mariadb-$MARIADB_PORT.sock
  local cli=(mariadb --no-defaults --protocol=socket --socket="$sock" -uroot)
  if ! "${cli[@]}" -e 'SELECT 1' >/dev/null 2>&1; then
    if [ ! -d "$dir/mysql" ]; then
      mariadb-install-db --no-defaults --datadir="$dir" --user="$(id -un)" --auth-root-authentication-method=socket \
        --skip-test-db >"$RUN/mariadb-install.log" 2>&1
    fi
    nohup mariadbd --no-defaults --datadir="$dir" --socket="$sock" --port="$MARIADB_PORT" --bind-address=127.0.0.1 \
      --pid-file="$RUN/mariadb-$MARIADB_PORT.pid" --log-error="$RUN/mariadb-$MARIADB_PORT.log" --user="$(id -un)" \
      --skip-name-resolve --innodb-buffer-pool-size=32M --skip-log-bin --character-set-server=utf8mb4 >/dev/null 2>&1 &
    for _ in $(seq 100); do "${cli[@]}" -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  "${cli[@]}" <<SQL
CREATE USER IF NOT EXISTS '$PGUSER_NAME'@'127.0.0.1' IDENTIFIED BY '$PGPASS';
GRANT ALL PRIVILEGES ON *.* TO '$PGUSER_NAME'@'127.0.0.1' WITH GRANT OPTION;
SQL
  echo "mariadb: mysql://$PGUSER_NAME:***@127.0.0.1:$MARIADB_PORT (log $RUN/mariadb-$MARIADB_PORT.log)"
}

case "${1:-start}" in
  start) start_pg; start_redis; start_s3; start_mariadb ;;
  stop)
    alive "$RUN/s3rver.pid" && kill "$(cat "$RUN/s3rver.pid")" || true
    bash scripts/rgw.sh stop --store memstore
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    mariadb-admin --no-defaults --protocol=socket --socket="$RUN/mariadb-$MARIADB_PORT.sock" -uroot shutdown >/dev/null 2>&1 || true
    echo "stopped S3, redis and mariadb (PostgreSQL left running: pg_ctlcluster 15 main stop)" ;;
  status)
    pg_lsclusters; redis-cli -p "$REDIS_PORT" ping || true; bash scripts/rgw.sh status --store memstore || true
    alive "$RUN/s3rver.pid" && echo "s3rver up" || true
    alive "$RUN/mariadb-$MARIADB_PORT.pid" && echo "mariadb up on $MARIADB_PORT" || echo "mariadb down" ;;
esac
