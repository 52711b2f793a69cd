#!/usr/bin/env bash
# Installs what SETA needs on a Debian machine of this kind (idempotent; only what is missing).
set -euo pipefail
need=()
command -v pkg-config >/dev/null || need+=(pkg-config)
[ -f /usr/include/postgresql/libpq-fe.h ] || need+=(libpq-dev)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -f /usr/share/postgresql/15/extension/btree_gist.control ] || ls /usr/share/postgresql/*/extension/btree_gist.control >/dev/null 2>&1 || need+=(postgresql-contrib)
command -v runuser >/dev/null || need+=(util-linux)
if [ "${1:-}" = "--with-tools" ]; then
  command -v wrk >/dev/null || need+=(wrk)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
id postgres >/dev/null 2>&1 || useradd --system --home /var/lib/postgresql --shell /bin/bash postgres
# StrictContractTests reads openapi.yaml through python3's PyYAML (as the contract scripts do).
python3 -c 'import yaml' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check pyyaml
# openpyxl reads the exported workbooks in the live checks (scripts/xlsx-check.py); pip, only when missing.
if command -v python3 >/dev/null && ! python3 -c 'import openpyxl' >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check openpyxl >/dev/null 2>&1 \
    || echo "install-deps: could not install openpyxl with pip (scripts/xlsx-check.py will try again)"
fi
