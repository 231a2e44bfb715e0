#!/usr/bin/env bash
# What `make test` needs from the system: a MariaDB server (real one for ingest tests), Chromium
# (HTML reports and Data Docs open in a real headless browser) and PostgreSQL (the Dagster instance test). Installs them with apt-get when
# missing and apt-get exists; quiet when everything is there.
set -euo pipefail
need=()
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server mariadb-client)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# PostgreSQL for the Dagster-instance test (initdb/postgres; Debian keeps them under /usr/lib/postgresql)
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-test-deps: missing ${need[*]} and no apt-get; install them by hand" >&2
  exit 0
fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "ensure-test-deps: installing ${need[*]} ..." >&2
$SUDO apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
