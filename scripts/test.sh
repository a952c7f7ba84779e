#!/usr/bin/env bash
# The project's test command: every test of the workspace, then the PostgreSQL pass
# (the TAXII HTTP tests and the federation scenarios again, on PostgreSQL, from the
# same build), then the fuzz targets' build. Sets up the Python venv the differential
# test needs (scripts/python-env.sh) and points the tests at it with PASSERELLE_PYTHON.
#
# Needs a PostgreSQL server whose user may create databases: PASSERELLE_TEST_POSTGRES,
# default postgres://postgres@127.0.0.1:5432/test. The store suite and the migration
# tests use it in the first pass too; every test makes databases of its own on it,
# named passerelle_test_<run>_<random>, and this script drops what its run left.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

postgres="${PASSERELLE_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}"
# The server as messages show it: never a password.
postgres_shown="$(printf '%s' "$postgres" | sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#')"
have_psql=false
if command -v psql >/dev/null 2>&1; then
    have_psql=true
fi

# Both passes need the server: say so plainly before anything runs, rather than
# through the tests' panics.
needs_postgres() {
    echo "test.sh: the test command needs PostgreSQL at $postgres_shown ($1):" \
        "start it or set PASSERELLE_TEST_POSTGRES (a postgres:// URL whose user may" \
        "create databases)" >&2
    exit 1
}
if $have_psql; then
    psql "$postgres" -XAtqc 'SELECT 1' >/dev/null 2>&1 \
        || needs_postgres "psql cannot connect"
elif command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -d "$postgres" || needs_postgres "pg_isready says it is not accepting connections"
fi

PASSERELLE_PYTHON="$(bash scripts/python-env.sh)"
export PASSERELLE_PYTHON

# This run's databases (see store::postgres::testing::RUN_ENV): only those are
# dropped at the end, never another run's on the same server.
PASSERELLE_TEST_RUN="$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
export PASSERELLE_TEST_RUN
drop_run_databases() {
    if ! $have_psql; then
        echo "test.sh: no psql: databases passerelle_test_${PASSERELLE_TEST_RUN}_* may be" \
            "left on $postgres_shown" >&2
        return 0
    fi
    local names
    names="$(psql "$postgres" -XAtqc \
        "SELECT datname FROM pg_database WHERE datname LIKE 'passerelle\_test\_${PASSERELLE_TEST_RUN}\_%'" \
        2>/dev/null)" || return 0
    for name in $names; do
        psql "$postgres" -Xqc "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null 2>&1 \
            || echo "test.sh: could not drop the test database $name" >&2
    done
}
# The binary tests' per-folder databases live as long as their test process and are
# never dropped by it; whatever a failed or interrupted test left goes too.
trap drop_run_databases EXIT

if cargo nextest --version >/dev/null 2>&1; then
    # nextest does not run doctests: run those first, so that nextest's summaries,
    # which count every other test, are the closing lines.
    cargo test --workspace --doc
    cargo nextest run --workspace --no-fail-fast
    echo
    echo "== PostgreSQL pass: the TAXII HTTP tests and the federation scenarios on $postgres_shown"
    PASSERELLE_TEST_BACKEND=postgres cargo nextest run -p taxii -p passerelle --no-fail-fast \
        -E 'binary(http) | binary(federation_sync) | binary(federation_cli) | binary(offline) | binary(serve_partner) | binary(interop) | binary(federation_three_nodes)'
else
    cargo test --workspace --no-fail-fast
    echo
    echo "== PostgreSQL pass: the TAXII HTTP tests and the federation scenarios on $postgres_shown"
    PASSERELLE_TEST_BACKEND=postgres cargo test -p taxii -p passerelle --no-fail-fast \
        --test http --test federation_sync --test federation_cli --test offline \
        --test serve_partner --test interop --test federation_three_nodes
fi

if [[ -f fuzz/Cargo.toml ]]; then
    # The fuzz targets are not run here, but they must keep building.
    cargo build --manifest-path fuzz/Cargo.toml
fi
