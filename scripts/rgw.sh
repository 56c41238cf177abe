#!/usr/bin/env bash
# A one-node Ceph cluster (one mon, one OSD, radosgw) as the S3 of tests and the demo: S3 with versioning and
# Object Lock, the same API MinIO gives production. Plain processes under one folder, no systemd, no auth inside
# the cluster (it listens on 127.0.0.1 only); S3 clients sign with the keys this script creates.
#
#   scripts/rgw.sh start  [--store memstore|bluestore] [--dir D] [--port P] [--mon-port M]
#   scripts/rgw.sh stop   [--dir D]
#   scripts/rgw.sh status [--dir D] [--port P]
#   scripts/rgw.sh env    [--dir D]          # prints S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY
#
# memstore (tests): everything in the OSD's memory, a fresh cluster at every start (about 15 s).
# bluestore (demo): a sparse 20 GiB file under D/osd, kept across stop/start (restart about 8 s).
# Idempotent: a cluster already answering on the port is left as it is. Installs the Debian packages if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CMD=${1:-status}; shift || true
STORE=memstore; DIR=""; PORT=${MAMORU_RGW_PORT:-17480}; MON_PORT=${MAMORU_CEPH_MON_PORT:-16789}
while [ $# -gt 0 ]; do
  case "$1" in
    --store) STORE=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --mon-port) MON_PORT=$2; shift 2 ;;
    *) echo "rgw.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$STORE" in memstore|bluestore) ;; *) echo "rgw.sh: --store is memstore or bluestore, not $STORE" >&2; exit 2 ;; esac
D=${DIR:-$ROOT/.data/rgw-$STORE}
mkdir -p "$D"; D=$(cd "$D" && pwd)
CONF=$D/ceph.conf
# Keys: fixed for the memstore cluster (tests know them: test-support/src/env.ts), random once for a kept cluster.
UID_NAME=mamoru
ENDPOINT=http://127.0.0.1:$PORT

say() { echo "rgw: $*"; }
die() { echo "rgw: $*" >&2; [ -d "$D/log" ] && tail -n 5 "$D"/log/{start,mkfs,mon.a,osd.0,client.rgw.a}.log >&2 2>/dev/null; exit 1; }
alive() { local p; p=$(cat "$1" 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
answers() { curl -s -o /dev/null -m 2 -w '%{http_code}' "$ENDPOINT/" 2>/dev/null | grep -qE '^(200|403)$'; }
# The daemons must not inherit the start lock (fd 9), or it would stay taken while they run.
c() { "$@" -c "$CONF" 9>&-; }

install_packages() {
  local missing=()
  for p in ceph-mon ceph-osd radosgw ceph-common; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "need root to install: ${missing[*]}"
  say "apt-get install ${missing[*]}"
  local t0=$SECONDS
  for attempt in 1 2 3; do
    if { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }; then
      say "installed in $((SECONDS - t0)) s"; return 0
    fi
    say "apt-get failed (attempt $attempt), retrying"; sleep $((attempt * 3))
  done
  die "could not install ${missing[*]}"
}

write_conf() {
  local fsid=$1 storecfg
  if [ "$STORE" = memstore ]; then
    # Tests create and drop buckets all day: deleted objects are given back within a minute, not after radosgw's
    # default two hours, so the 4 GiB in memory does not fill up (OSD_FULL blocks every write, silently).
    storecfg="osd objectstore = memstore
memstore device bytes = ${MAMORU_MEMSTORE_BYTES:-4294967296}
rgw gc obj min wait = 30
rgw gc processor period = 30"
  else
    storecfg="osd objectstore = bluestore
bluestore block create = true
bluestore block size = ${MAMORU_BLUESTORE_BYTES:-21474836480}
bluestore fsck on mkfs = false
bluestore block db create = false
bluestore block wal create = false
bluestore cache autotune = false
bluestore cache size = 134217728
osd memory target = 536870912"
  fi
  cat >"$CONF" <<CONF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$MON_PORT
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
osd crush chooseleaf type = 0
$storecfg
run dir = $D/run
log file = $D/log/\$name.log
admin socket = $D/run/\$name.asok
pid file = $D/run/\$name.pid
ms bind ipv6 = false
debug ms = 0
[mon.a]
mon data = $D/mon
public addr = 127.0.0.1
[osd.0]
osd data = $D/osd
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw data = $D/rgw
rgw dns name = 127.0.0.1
CONF
}

mkfs_cluster() {
  local fsid; fsid=$(cat /proc/sys/kernel/random/uuid)
  rm -rf "$D"/{mon,osd,rgw,run,log,monmap,mon.keyring,ceph.conf,s3.env}
  mkdir -p "$D"/{mon,osd,rgw,run,log}
  write_conf "$fsid"
  monmaptool --create --add a "v1:127.0.0.1:$MON_PORT" --fsid "$fsid" "$D/monmap" >/dev/null
  ceph-authtool --create-keyring "$D/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  c ceph-mon --mkfs -i a --monmap "$D/monmap" --keyring "$D/mon.keyring" >>"$D/log/mkfs.log" 2>&1 || die "ceph-mon --mkfs failed"
}

start_mon() {
  alive "$D/run/mon.a.pid" || c ceph-mon -i a >>"$D/log/start.log" 2>&1 || die "ceph-mon did not start"
  for _ in $(seq 100); do timeout 5 ceph -c "$CONF" --connect-timeout 3 mon stat >/dev/null 2>&1 && return 0; sleep 0.2; done
  die "ceph-mon does not answer on 127.0.0.1:$MON_PORT"
}

start_osd() {
  if [ ! -f "$D/osd/whoami" ]; then
    # With a uuid, "osd create" is idempotent (the same uuid gets the same id), so it can be asked again: under load
    # the CLI sometimes sends its first command before it has the monmap, and the mon refuses it ("handle_command on
    # fsid 00000000-... != <fsid>", the CLI says "EPERM: problem getting command descriptions").
    local uuid id="" attempt; uuid=$(cat /proc/sys/kernel/random/uuid)
    for attempt in 1 2 3 4 5; do
      id=$(timeout 20 ceph -c "$CONF" osd create "$uuid" 2>>"$D/log/start.log") && break
      id=""; say "ceph osd create refused (attempt $attempt), asking again"; sleep $attempt
    done
    [ -n "$id" ] || die "ceph osd create failed"
    [ "$id" = 0 ] || die "expected osd id 0, got $id"
    c ceph-osd -i 0 --mkfs --osd-uuid "$uuid" >>"$D/log/mkfs.log" 2>&1 || die "ceph-osd --mkfs failed"
  fi
  # Under heavy load the OSD sometimes dies during its first boot ("wrong fsid" from a monitor command sent before
  # it had the monmap, the same race as above): start it again, up to six times (each failure takes well under 1 s).
  for attempt in 1 2 3 4 5 6; do
    alive "$D/run/osd.0.pid" || c ceph-osd -i 0 >>"$D/log/start.log" 2>&1 || { say "ceph-osd did not start (attempt $attempt)"; sleep "$attempt"; continue; }
    for _ in $(seq 150); do
      timeout 5 ceph -c "$CONF" osd stat -f json 2>/dev/null | grep -q '"num_up_osds":1' && return 0
      [ -f "$D/run/osd.0.pid" ] && ! alive "$D/run/osd.0.pid" && break
      sleep 0.2
    done
    say "osd.0 is not up (attempt $attempt), restarting it"
    alive "$D/run/osd.0.pid" && kill "$(cat "$D/run/osd.0.pid")" 2>/dev/null; sleep 1
  done
  die "osd.0 did not come up"
}

start_rgw() {
  alive "$D/run/client.rgw.a.pid" || c radosgw -n client.rgw.a >>"$D/log/start.log" 2>&1 || die "radosgw did not start"
  for _ in $(seq 300); do answers && return 0; alive "$D/run/client.rgw.a.pid" || break; sleep 0.2; done
  die "radosgw does not answer on $ENDPOINT (log: $D/log/client.rgw.a.log)"
}

ensure_user() {
  [ -f "$D/s3.env" ] && return 0
  local ak sk
  if [ "$STORE" = memstore ]; then ak=MAMORU-RGW-TEST; sk=mamoru-rgw-test-secret
  else ak=$(openssl rand -hex 10 | tr a-f A-F); sk=$(openssl rand -hex 20); fi
  if ! timeout 30 radosgw-admin -c "$CONF" -n client.rgw.a user info --uid="$UID_NAME" >/dev/null 2>&1; then
    timeout 30 radosgw-admin -c "$CONF" -n client.rgw.a user create --uid="$UID_NAME" --display-name="Mamoru centre" \
      --access-key="$ak" --secret="$sk" >>"$D/log/admin.log" 2>&1 || die "radosgw-admin user create failed"
  fi
  umask 077
  printf 'S3_ENDPOINT=%s\nS3_ACCESS_KEY=%s\nS3_SECRET_KEY=%s\n' "$ENDPOINT" "$ak" "$sk" >"$D/s3.env.new"
  mv "$D/s3.env.new" "$D/s3.env"
}

# S3 answers a signed request (user and keys in place), not only the anonymous root. curl signs SigV4 itself.
signed_ok() {
  # shellcheck disable=SC1091
  . "$D/s3.env"
  [ "$(curl -s -o /dev/null -m 3 -w '%{http_code}' -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
    --aws-sigv4 'aws:amz:us-east-1:s3' --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" "$S3_ENDPOINT/" 2>/dev/null)" = 200 ]
}
wait_signed() {
  for _ in $(seq 100); do signed_ok && return 0; sleep 0.2; done
  die "S3 on $ENDPOINT refuses the keys in $D/s3.env"
}

stop_all() {
  local any=0
  for n in client.rgw.a osd.0 mon.a; do
    if alive "$D/run/$n.pid"; then kill "$(cat "$D/run/$n.pid")" 2>/dev/null || true; any=1
      for _ in $(seq 100); do alive "$D/run/$n.pid" || break; sleep 0.1; done
      alive "$D/run/$n.pid" && kill -9 "$(cat "$D/run/$n.pid")" 2>/dev/null || true
    fi
  done
  [ $any = 1 ] && say "stopped ($D)" || say "not running ($D)"
}

case "$CMD" in
  start)
    t0=$(date +%s%N)
    if answers && [ -f "$D/s3.env" ] && signed_ok; then say "already up on $ENDPOINT ($D)"; exit 0; fi
    # The tests' keys are fixed: a memstore cluster another checkout started on this port is used as it is.
    if [ "$STORE" = memstore ] && answers && ! alive "$D/run/client.rgw.a.pid"; then
      printf 'S3_ENDPOINT=%s\nS3_ACCESS_KEY=MAMORU-RGW-TEST\nS3_SECRET_KEY=mamoru-rgw-test-secret\n' "$ENDPOINT" >"$D/s3.env"
      if signed_ok; then say "already up on $ENDPOINT (started by another checkout)"; exit 0; fi
      rm -f "$D/s3.env"
    fi
    # One start at a time per folder (setup.sh starts it in the background; a demo and a test run may race).
    exec 9>"$D/.start.lock"; flock -w 180 9 || die "another rgw.sh start holds $D/.start.lock"
    if answers && [ -f "$D/s3.env" ] && signed_ok; then say "already up on $ENDPOINT ($D)"; exit 0; fi
    if answers && ! alive "$D/run/client.rgw.a.pid"; then die "something else answers on $ENDPOINT (not the cluster in $D): choose another --port"; fi
    install_packages
    fresh=0
    if [ "$STORE" = memstore ]; then
      # memstore keeps nothing across a restart: a cluster whose daemons are gone starts from scratch.
      if ! alive "$D/run/osd.0.pid" || ! alive "$D/run/mon.a.pid"; then stop_all >/dev/null; fresh=1; fi
    elif [ ! -f "$D/mon/store.db/CURRENT" ] && [ ! -d "$D/mon/store.db" ]; then fresh=1; fi
    [ $fresh = 1 ] && mkfs_cluster
    lap() { say "$1 at $(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN{printf "%.1f", (b-a)/1e9}') s"; }
    start_mon; lap "mon up"; start_osd; lap "osd up"; start_rgw; lap "radosgw answers"; ensure_user; wait_signed
    say "up on $ENDPOINT, $STORE, $D ($(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN{printf "%.1f", (b-a)/1e9}') s)"
    ;;
  stop) stop_all ;;
  status)
    for n in mon.a osd.0 client.rgw.a; do
      if alive "$D/run/$n.pid"; then echo "$n up (pid $(cat "$D/run/$n.pid"), rss $(awk '/VmRSS/{print $2" "$3}' /proc/"$(cat "$D/run/$n.pid")"/status))"; else echo "$n down"; fi
    done
    answers && echo "S3 answers on $ENDPOINT" || { echo "S3 does not answer on $ENDPOINT"; exit 1; } ;;
  env) cat "$D/s3.env" ;;
  *) echo "usage: scripts/rgw.sh start|stop|status|env [--store memstore|bluestore] [--dir D] [--port P] [--mon-port M]" >&2; exit 2 ;;
esac
