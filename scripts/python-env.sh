#!/usr/bin/env bash
# Creates (or reuses) the Python venv at <repo>/.venv with the pinned packages of
# scripts/requirements.txt, then prints the venv's python path on stdout.
# Needs only python3 with pip, and PyPI. Rerunning it is cheap: the venv is
# rebuilt only when requirements.txt changed or the venv is broken.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"
req="$repo/scripts/requirements.txt"
stamp="$venv/.requirements.sha256"
python="$venv/bin/python"
want="$(sha256sum "$req" | cut -d' ' -f1)"

log() { echo "python-env: $*" >&2; }

if [[ -x "$python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
    && "$python" -c 'import stix2validator' 2>/dev/null; then
    echo "$python"
    exit 0
fi

host_python="${PYTHON:-python3}"
command -v "$host_python" >/dev/null || { log "no $host_python on PATH"; exit 1; }

log "creating $venv"
rm -rf "$venv"
if ! "$host_python" -m venv "$venv" >&2 2>/dev/null; then
    # Debian's python3 without python3-venv has no ensurepip: fall back to virtualenv.
    log "python3 -m venv failed; trying virtualenv"
    rm -rf "$venv"
    "$host_python" -m pip install --quiet --user virtualenv >&2 \
        || "$host_python" -m pip install --quiet --user --break-system-packages virtualenv >&2
    "$host_python" -m virtualenv --quiet "$venv" >&2
fi
log "installing scripts/requirements.txt"
"$python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" >&2
"$python" -c 'import stix2validator, taxii2client, medallion' >&2
echo "$want" > "$stamp"
echo "$python"
