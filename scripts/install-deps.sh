#!/usr/bin/env bash
# Installs what certflow needs to build and test on Debian (12 or later).
set -euo pipefail
packages=(build-essential cmake pkg-config liblua5.4-dev libsqlite3-dev uuid-dev
          libjansson-dev libssl-dev libcmocka-dev valgrind libpq-dev postgresql
          libmicrohttpd-dev libcurl4-openssl-dev chromium
          python3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The postgresql package starts a cluster of its own as a service where it can; the tests never
# use it (scripts/pg-test-cluster.sh starts a throw-away one), so leave it as Debian set it up.
