#!/usr/bin/env bash
# Installs the Prism mock server (@stoplight/prism-cli 5) into ./node_modules for the
# contract tests (tests/common/prism.rs finds it there). Idempotent: an existing
# install is kept. Needs node + npm; no global install, no sudo.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

prism_bin="node_modules/.bin/prism"
if [[ -x "$prism_bin" ]] && "$prism_bin" --version >/dev/null 2>&1; then
    echo "prism already installed: $("$prism_bin" --version) ($repo_root/$prism_bin)"
    exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "error: npm not found; install Node.js (>= 18) first" >&2
    exit 1
fi

# --prefix keeps the install inside this checkout; --no-save keeps the repo free of a
# package.json/package-lock.json that nothing else uses.
npm install --prefix "$repo_root" --no-save --no-audit --no-fund '@stoplight/prism-cli@5'

if ! "$prism_bin" --version >/dev/null 2>&1; then
    echo "error: npm finished but $prism_bin does not run" >&2
    exit 1
fi
echo "prism installed: $("$prism_bin" --version) ($repo_root/$prism_bin)"
