#!/usr/bin/env bash
# Installs moto's S3-compatible server (moto[server] from PyPI) into
# .ci/cache/venv for tests/s3_moto.rs, which starts `moto_server` on loopback
# itself. Idempotent: a working install is kept. Needs python3 with venv; no sudo.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo_root/.ci/cache/venv"
moto_bin="$venv/bin/moto_server"
# The version the object-lock behaviour was checked against (shared/specs/README.md).
moto_spec='moto[server]==5.2.5'

if [[ -x "$moto_bin" ]] && "$moto_bin" --help >/dev/null 2>&1; then
    echo "moto already installed: $("$venv/bin/python" -m pip show moto 2>/dev/null | sed -n 's/^Version: //p') ($moto_bin)"
    exit 0
fi

if ! command -v python3 >/dev/null 2>&1; then
    echo "error: python3 not found; install Python 3 (with the venv module) first" >&2
    exit 1
fi

python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$moto_spec"

if ! "$moto_bin" --help >/dev/null 2>&1; then
    echo "error: pip finished but $moto_bin does not run" >&2
    exit 1
fi
echo "moto installed: $moto_bin"
