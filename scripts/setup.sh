#!/usr/bin/env bash
# Installs what is missing on a Debian 12 machine and starts PostgreSQL, Redis, S3 and MariaDB. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
APT_PKGS=(ffmpeg redis-server chromium fonts-ipafont-gothic espeak-ng sox docker-compose curl iproute2 util-linux poppler-utils unzip python3-opencv opencv-data mariadb-server)
missing=()
for p in "${APT_PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== apt-get install ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then echo "need root to install: ${missing[*]}" >&2; exit 1; fi
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi
# The S3 (Ceph radosgw, scripts/rgw.sh) takes about 20 s to come up: start it now, while npm installs.
# scripts/services.sh waits for it. (rgw.sh installs its Debian packages itself, --no-install-recommends.)
if [ "${MAMORU_S3:-rgw}" != s3rver ]; then
  mkdir -p .run
  bash scripts/rgw.sh start --store memstore >.run/rgw-start.log 2>&1 &
  RGW_BG=$!
fi
# npm install (not npm ci: foreign-platform optional binaries are missing from this registry, and ci refuses).
stamp=node_modules/.mamoru-install-stamp
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || find . -name package.json -not -path '*/node_modules/*' -newer "$stamp" | grep -q .; then
  echo "== npm install"
  npm install --no-audit --no-fund 2>&1 | grep -v 'Unknown user config "nodedir"' | grep -v '^npm warn install-scripts' || true
  touch "$stamp"
fi
echo "== services"
if [ -n "${RGW_BG:-}" ]; then wait "$RGW_BG" || { cat .run/rgw-start.log >&2; echo "S3 (radosgw) did not start" >&2; exit 1; }; grep -E 'installed in|up on' .run/rgw-start.log || true; fi
bash scripts/services.sh start
