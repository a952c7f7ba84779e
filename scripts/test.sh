#!/usr/bin/env bash
# The project's test command: every test of the workspace, then the fuzz targets'
# build. Sets up the Python venv the differential test needs (scripts/python-env.sh)
# and points the tests at it with PASSERELLE_PYTHON.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

PASSERELLE_PYTHON="$(bash scripts/python-env.sh)"
export PASSERELLE_PYTHON

if cargo nextest --version >/dev/null 2>&1; then
    # nextest does not run doctests: run those first, so that nextest's summary,
    # which counts every other test, is the closing line.
    cargo test --workspace --doc
    cargo nextest run --workspace --no-fail-fast
else
    cargo test --workspace --no-fail-fast
fi

if [[ -f fuzz/Cargo.toml ]]; then
    # The fuzz targets are not run here, but they must keep building.
    cargo build --manifest-path fuzz/Cargo.toml
fi
