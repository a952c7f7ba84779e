#!/usr/bin/env bash
# How the cost of reads grows with the size of a node, on each backend, printed as
# Markdown on stdout (progress goes to stderr).
#
# For each backend (SQLite in a data folder; PostgreSQL in a database this script
# creates and drops), one collection is filled in stages up to each size of
# BENCH_SIZES with `passerelle import` of generated objects (streamed from
# `taxii-bench bundle` through stdin, objects [previous size, size) of one seed);
# after each stage a `passerelle serve` (release) is started and measured over HTTP
# with `taxii-bench`: Get An Object p50/p99 over random stored ids, and a full
# paging pass (pages of 1,000 following `next`) with its per-page p50/p99 latency
# and objects/s. The import rate of each stage is reported too.
#
# Settings (environment), defaults are the full run of BENCHMARKS.md:
#   BENCH_SIZES="100000 1000000 10000000"  BENCH_BACKENDS="sqlite postgres"
#   BENCH_SAMPLES=5000 (Get An Object requests per size)
#   BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432 (the server; the script
#     creates and drops the database passerelle_bench_scale on it)
#   BENCH_DIR=<repo>/target/bench-scale
# A quick check: BENCH_SIZES="10000 30000" BENCH_SAMPLES=500 scripts/bench-scale.sh
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# shellcheck source=scripts/bench-lib.sh
source "$repo/scripts/bench-lib.sh"
sizes="${BENCH_SIZES:-100000 1000000 10000000}"
backends="${BENCH_BACKENDS:-sqlite postgres}"
samples="${BENCH_SAMPLES:-5000}"
pg_server="${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
pg_db="passerelle_bench_scale"
dir="${BENCH_DIR:-$repo/target/bench-scale}"
target="${CARGO_TARGET_DIR:-$repo/target}"
bin="$target/release/passerelle"
tool="$target/release/taxii-bench"


log "building passerelle and taxii-bench (release)"
cargo build --release -p passerelle -p taxii-bench >&2

server_pid=""
cleanup() { [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true; }
trap cleanup EXIT

rows=()
for backend in $backends; do
    node="$dir/$backend"
    rm -rf "$node"
    mkdir -p "$node"
    unset PASSERELLE__STORE__URL
    if [[ "$backend" == postgres ]]; then
        command -v psql > /dev/null || { log "psql is needed for the postgres backend"; exit 1; }
        psql_admin "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)"
        psql_admin "CREATE DATABASE $pg_db"
        export PASSERELLE__STORE__URL="$pg_server/$pg_db"
    fi
    log "$backend: creating the node"
    "$bin" init --data "$node" > "$node/init.out"
    token="$(grep -o 'psl_[A-Za-z0-9_-]*' "$node/init.out" | head -n 1)"
    collection="$("$bin" collection add "Scale" --alias scale --data "$node")"
    loaded=0
    for size in $sizes; do
        count=$((size - loaded))
        log "$backend: importing objects $loaded..$size"
        started=$(date +%s.%N)
        "$tool" bundle --out - --seed 1 --start "$loaded" --count "$count" 2> /dev/null \
            | "$bin" import - --collection scale --data "$node" > "$node/import-$size.out" 2>&1 \
            || { log "import failed:"; tail -5 "$node/import-$size.out" >&2; exit 1; }
        ended=$(date +%s.%N)
        import_rate="$(awk -v n="$count" -v a="$started" -v b="$ended" 'BEGIN { printf "%.0f", n / (b - a) }')"
        loaded=$size

        # A new file per start: the shell truncates it in the child, after this
        # script may already have looked for the line.
        out="$node/serve-$size.out"
        PASSERELLE__SERVER__LISTEN=127.0.0.1:0 PASSERELLE__LOG__LEVEL=warn \
            "$bin" serve --data "$node" > "$out" 2> "$out.err" &
        server_pid=$!
        wait_for_line "$out" "Passerelle is serving" "$server_pid"
        base="$(sed -n 's|.*serving TAXII 2.1 at \(http[^ ]*\)/taxii2/.*|\1|p' "$out")"
        export TAXII_AUTHORIZATION="Bearer $token"
        log "$backend: $size objects: Get An Object x $samples"
        GLIBC_TUNABLES="$client_malloc" "$tool" by-id --root "$base/api" --collection "$collection" --objects "$size" --seed 1 --samples "$samples" > "$node/byid-$size"
        log "$backend: $size objects: paging"
        GLIBC_TUNABLES="$client_malloc" "$tool" page --root "$base/api" --collection "$collection" > "$node/page-$size"
        [[ "$(value objects "$node/page-$size")" == "$size" ]] \
            || { log "paging read $(value objects "$node/page-$size") objects, expected $size"; exit 1; }
        kill -TERM "$server_pid"
        wait "$server_pid" || true
        server_pid=""
        rows+=("| $backend | $(int "$size") | $(int "$import_rate") | $(value p50_ms "$node/byid-$size") | $(value p99_ms "$node/byid-$size") | $(value page_p50_ms "$node/page-$size") | $(value page_p99_ms "$node/page-$size") | $(int "$(value per_second "$node/page-$size")") |")
    done
    if [[ "$backend" == postgres ]]; then
        psql_admin "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)"
    fi
done

cat <<EOF
## How cost grows with size

$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM; $(date -u +%Y-%m-%d); \`scripts/bench-scale.sh\` with BENCH_SIZES="$sizes" BENCH_SAMPLES=$samples.
One collection filled in stages by \`passerelle import\` (stdin, batches of 5,000); after each stage a release \`passerelle serve\` measured over HTTP on 127.0.0.1: $samples sequential Get An Object requests on random stored ids, then one paging pass over everything (pages of 1,000).

| backend | objects stored | import of the stage (objects/s) | Get An Object p50 (ms) | p99 (ms) | page of 1,000 p50 (ms) | p99 (ms) | paging (objects/s) |
|---|---:|---:|---:|---:|---:|---:|---:|
$(printf '%s\n' "${rows[@]}")
EOF
