#!/usr/bin/env bash
# Benchmark of a Passerelle node over real HTTP on this machine, printed as Markdown
# on stdout (progress goes to stderr). Builds release binaries, then:
#
#  1. starts `passerelle serve` (release) on a fresh node and, with the Rust load
#     generator `taxii-bench` (benches/taxii), measures: TAXII ingest (envelopes of
#     1,000 from BENCH_CONCURRENCY clients), paging reads (pages of 1,000 following
#     `next`; one walk, then BENCH_READERS walks at once), Get An Object p50/p99
#     latency, with BENCH_OBJECTS objects stored; the same at BENCH_SMALL objects in
#     another collection; the server's peak RSS;
#  2. `passerelle import` of a generated bundle of BENCH_IMPORT_MB megabytes:
#     objects/s and peak RSS (/usr/bin/time);
#  3. the raw limit of this machine in the same run: a bare rusqlite insert loop
#     (transactions of 1,000, WAL, synchronous=FULL), page-read loop and point read
#     over the same BENCH_OBJECTS objects; each figure above as a fraction of it;
#  4. the OASIS reference server medallion 3.0.0 (memory backend) driven by the same
#     generator at BENCH_SMALL objects, with Passerelle's ratio to it.
#
# Every object is generated (benches/taxii/src/generate.rs): valid STIX 2.1
# indicators, malware and relationships of about 700 bytes.
# Settings (environment), defaults are the full-size run of BENCHMARKS.md:
#   BENCH_OBJECTS=1000000  BENCH_SMALL=10000  BENCH_IMPORT_MB=1024
#   BENCH_SAMPLES=5000 (Get An Object requests)  BENCH_MEDALLION_SAMPLES=300
#   BENCH_CONCURRENCY=2 (ingest clients)  BENCH_READERS=4 (paging walks at once, a second
#   paging figure: their total)  BENCH_DIR=<repo>/target/bench-taxii (node, bundle, raw db)
#   BENCH_NO_MEDALLION=1 (skip medallion)
#   BENCH_BACKEND=postgres: the node on PostgreSQL instead (database passerelle_bench_taxii,
#     created and dropped on BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432); the raw
#     SQLite loop and medallion are skipped then
#   BENCH_PROCESSES=2: that many `passerelle serve` processes on the one node (PostgreSQL
#     only), the clients taking them in turn (ingest: client i on process i mod N;
#     paging: page n on process n mod N, so `next` cursors cross processes)
# A quick check that everything works: BENCH_OBJECTS=20000 BENCH_SMALL=2000 BENCH_IMPORT_MB=10 scripts/bench-taxii.sh
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# shellcheck source=scripts/bench-lib.sh
source "$repo/scripts/bench-lib.sh"
objects="${BENCH_OBJECTS:-1000000}"
small="${BENCH_SMALL:-10000}"
import_mb="${BENCH_IMPORT_MB:-1024}"
samples="${BENCH_SAMPLES:-5000}"
med_samples="${BENCH_MEDALLION_SAMPLES:-300}"
concurrency="${BENCH_CONCURRENCY:-2}"
readers="${BENCH_READERS:-4}"
dir="${BENCH_DIR:-$repo/target/bench-taxii}"
backend="${BENCH_BACKEND:-sqlite}"
processes="${BENCH_PROCESSES:-1}"
pg_server="${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
pg_db="passerelle_bench_taxii"
target="${CARGO_TARGET_DIR:-$repo/target}"
bin="$target/release/passerelle"
tool="$target/release/taxii-bench"

[[ -x /usr/bin/time ]] || { log "/usr/bin/time is missing (apt-get install time)"; exit 1; }

log "building passerelle and taxii-bench (release)"
cargo build --release -p passerelle -p taxii-bench >&2

mkdir -p "$dir"
node="$dir/node"
rm -rf "$node"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT


case "$backend" in
    sqlite) [[ "$processes" == 1 ]] || { log "several processes need BENCH_BACKEND=postgres"; exit 1; } ;;
    postgres)
        psql_admin "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)"
        psql_admin "CREATE DATABASE $pg_db"
        export PASSERELLE__STORE__URL="$pg_server/$pg_db"
        BENCH_NO_MEDALLION=1
        ;;
    *) log "BENCH_BACKEND is sqlite or postgres, not $backend"; exit 1 ;;
esac

log "creating the node in $node ($backend)"
"$bin" init --data "$node" > "$dir/init.out"
token="$(grep -o 'psl_[A-Za-z0-9_-]*' "$dir/init.out" | head -n 1)"
large_id="$("$bin" collection add "Bench large" --alias large --data "$node")"
small_id="$("$bin" collection add "Bench small" --alias small --data "$node")"
"$bin" collection add "Bench import" --alias import --data "$node" > /dev/null

log "starting $processes passerelle serve"
roots=""
server_pids=()
for p in $(seq 1 "$processes"); do
    # Removed first: the shell truncates it in the child, after this script may
    # already have looked for the line.
    rm -f "$dir/serve$p.out"
    PASSERELLE__SERVER__LISTEN=127.0.0.1:0 PASSERELLE__LOG__LEVEL=warn \
        "$bin" serve --data "$node" > "$dir/serve$p.out" 2> "$dir/serve$p.out.err" &
    server_pid=$!
    pids+=("$server_pid")
    server_pids+=("$server_pid")
    wait_for_line "$dir/serve$p.out" "Passerelle is serving" "$server_pid"
    base="$(sed -n 's|.*serving TAXII 2.1 at \(http[^ ]*\)/taxii2/.*|\1|p' "$dir/serve$p.out")"
    roots="${roots:+$roots,}$base/api"
done
log "node at $roots"
export TAXII_AUTHORIZATION="Bearer $token"

run_tool() { # OUT ARGS...: runs taxii-bench, keeps its `key value` lines in OUT
    local out="$1"; shift
    GLIBC_TUNABLES="$client_malloc" "$tool" "$@" > "$out" || { log "taxii-bench $* failed"; exit 1; }
}

log "passerelle: $small objects (small collection)"
run_tool "$dir/p-small-ingest" ingest --root "$roots" --collection "$small_id" --objects "$small" --seed 2 --concurrency "$concurrency"
run_tool "$dir/p-small-page" page --root "$roots" --collection "$small_id"
run_tool "$dir/p-small-byid" by-id --root "$roots" --collection "$small_id" --objects "$small" --seed 2 --samples "$med_samples"

log "passerelle: $objects objects (large collection)"
run_tool "$dir/p-ingest" ingest --root "$roots" --collection "$large_id" --objects "$objects" --seed 1 --concurrency "$concurrency"
log "paging"
run_tool "$dir/p-page" page --root "$roots" --collection "$large_id"
log "paging, $readers readers at once"
run_tool "$dir/p-page-readers" page --root "$roots" --collection "$large_id" --readers "$readers"
log "Get An Object x $samples"
run_tool "$dir/p-byid" by-id --root "$roots" --collection "$large_id" --objects "$objects" --seed 1 --samples "$samples"
server_rss=0
for pid in "${server_pids[@]}"; do
    server_rss=$((server_rss + $(peak_rss_mb "$pid")))
    kill -TERM "$pid"
    wait "$pid" || true
done

bundle="$dir/bundle-${import_mb}mb.json"
if [[ ! -s "$bundle" || ! -s "$bundle.count" ]]; then
    log "writing a ${import_mb} MB bundle"
    "$tool" bundle --out "$bundle" --seed 3 --bytes "$((import_mb * 1000 * 1000))" > "$bundle.count"
fi
import_objects="$(value objects "$bundle.count")"
log "passerelle import of $bundle ($import_objects objects)"
/usr/bin/time -f "%e %M" -o "$dir/import.time" \
    "$bin" import "$bundle" --collection import --data "$node" > "$dir/import.out" 2>&1 \
    || { log "import failed:"; tail -5 "$dir/import.out" >&2; exit 1; }
read -r import_seconds import_kb < "$dir/import.time"
import_rate="$(awk -v n="$import_objects" -v s="$import_seconds" 'BEGIN { printf "%.0f", n / s }')"
import_rss="$(awk -v k="$import_kb" 'BEGIN { printf "%.0f", k / 1024 }')"

if [[ "$backend" == postgres ]]; then
    psql_admin "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)"
    cat <<EOF
## TAXII node benchmark on PostgreSQL, $processes process(es)

$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM; $(date -u +%Y-%m-%d); \`BENCH_BACKEND=postgres BENCH_PROCESSES=$processes scripts/bench-taxii.sh\` with BENCH_OBJECTS=$objects BENCH_IMPORT_MB=$import_mb BENCH_CONCURRENCY=$concurrency.
PostgreSQL $(psql "$pg_server/postgres" -Atc 'show server_version' 2>/dev/null) on the same machine; requests taken by the processes in turn.

| measure | Passerelle on PostgreSQL |
|---|---:|
| TAXII ingest, envelopes of 1,000, $concurrency clients (objects/s) | $(int "$(value per_second "$dir/p-ingest")") |
| \`passerelle import\` of a $import_mb MB bundle, $(int "$import_objects") objects (objects/s) | $(int "$import_rate") |
| paging reads, pages of 1,000 (objects/s) | $(int "$(value per_second "$dir/p-page")") |
| paging reads, $readers readers at once (objects/s, total) | $(int "$(value per_second "$dir/p-page-readers")") |
| Get An Object p50 (ms) | $(value p50_ms "$dir/p-byid") |
| Get An Object p99 (ms) | $(value p99_ms "$dir/p-byid") |
| peak RSS of the import / of the server process(es) (MB) | $import_rss / $server_rss |
EOF
    exit 0
fi

log "raw SQLite loop over the same $objects objects"
run_tool "$dir/raw" raw-sqlite --db "$dir/raw.db" --objects "$objects" --seed 1 --samples "$samples"
rm -f "$dir/raw.db" "$dir/raw.db-wal" "$dir/raw.db-shm"

med=""
if [[ -z "${BENCH_NO_MEDALLION:-}" ]]; then
    python="$(bash scripts/python-env.sh)"
    log "medallion: $small objects"
    "$python" scripts/interop/medallion_server.py > "$dir/medallion.out" 2> "$dir/medallion.out.err" &
    med_pid=$!
    pids+=("$med_pid")
    wait_for_line "$dir/medallion.out" "listening on" "$med_pid"
    med_base="$(sed -n 's|listening on \(http[^ ]*\).*|\1|p' "$dir/medallion.out")"
    med_root="$med_base/api1"
    med_coll="2f0e6a4b-7c1d-4b8e-8f3a-6d5c4b3a2e19"  # "bench" in scripts/interop/medallion-config.json
    TAXII_AUTHORIZATION="Basic $(printf '%s' 'interop:interop-password' | base64)" \
        run_tool "$dir/m-ingest" ingest --root "$med_root" --collection "$med_coll" --objects "$small" --seed 2 --concurrency "$concurrency"
    TAXII_AUTHORIZATION="Basic $(printf '%s' 'interop:interop-password' | base64)" \
        run_tool "$dir/m-page" page --root "$med_root" --collection "$med_coll"
    TAXII_AUTHORIZATION="Basic $(printf '%s' 'interop:interop-password' | base64)" \
        run_tool "$dir/m-byid" by-id --root "$med_root" --collection "$med_coll" --objects "$small" --seed 2 --samples "$med_samples"
    kill "$med_pid"
    wait "$med_pid" 2>/dev/null || true
    med=1
fi

raw_insert="$(value raw_insert_per_second "$dir/raw")"
raw_page="$(value raw_page_per_second "$dir/raw")"
raw_p50="$(value raw_by_id_p50_ms "$dir/raw")"
raw_p99="$(value raw_by_id_p99_ms "$dir/raw")"
ingest="$(value per_second "$dir/p-ingest")"
page="$(value per_second "$dir/p-page")"
page_readers="$(value per_second "$dir/p-page-readers")"
p50="$(value p50_ms "$dir/p-byid")"
p99="$(value p99_ms "$dir/p-byid")"

cat <<EOF
## TAXII node benchmark

$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM; $(date -u +%Y-%m-%d); \`scripts/bench-taxii.sh\` with BENCH_OBJECTS=$objects BENCH_SMALL=$small BENCH_IMPORT_MB=$import_mb BENCH_CONCURRENCY=$concurrency.
Passerelle release build over HTTP on 127.0.0.1 (Bearer token), generated STIX 2.1 objects of about 700 bytes.

### Passerelle with $(int "$objects") objects stored, against the raw SQLite limit

| measure | Passerelle | raw rusqlite loop | fraction of raw | goal |
|---|---:|---:|---:|---|
| TAXII ingest, envelopes of 1,000, $concurrency clients (objects/s) | $(int "$ingest") | $(int "$raw_insert") (insert) | $(ratio "$ingest" "$raw_insert") | ≥ 100,000/s, ≥ 0.5 of raw |
| \`passerelle import\` of a $import_mb MB bundle, $(int "$import_objects") objects (objects/s) | $(int "$import_rate") | $(int "$raw_insert") (insert) | $(ratio "$import_rate" "$raw_insert") | ≥ 200,000/s, ≥ 0.5 of raw |
| paging reads, pages of 1,000 (objects/s) | $(int "$page") | $(int "$raw_page") (page read) | $(ratio "$page" "$raw_page") | ≥ 500,000/s, ≥ 0.5 of raw |
| paging reads, $readers readers at once (objects/s, total) | $(int "$page_readers") | $(int "$raw_page") (page read) | $(ratio "$page_readers" "$raw_page") | |
| Get An Object p50 (ms) | $p50 | $raw_p50 (point read) | $(ratio "$raw_p50" "$p50") | |
| Get An Object p99 (ms) | $p99 | $raw_p99 (point read) | $(ratio "$raw_p99" "$p99") | ≤ 2 ms |

For latencies the fraction is raw time / Passerelle time. Get An Object: $(value samples "$dir/p-byid") sequential requests on one keep-alive connection, random stored ids.

### Memory

| process | peak RSS | goal |
|---|---:|---|
| \`passerelle import\` of the $import_mb MB bundle | $import_rss MB | < 300 MB |
| \`passerelle serve\` after the runs above | $server_rss MB | |
EOF

if [[ -n "$med" ]]; then
    m_ingest="$(value per_second "$dir/m-ingest")"
    m_page="$(value per_second "$dir/m-page")"
    s_ingest="$(value per_second "$dir/p-small-ingest")"
    s_page="$(value per_second "$dir/p-small-page")"
    cat <<EOF

### Against medallion 3.0.0 (memory backend) at $(int "$small") objects

The same generator and tool; medallion is the OASIS reference server (Basic auth, Flask development server, threaded).

| measure | Passerelle | medallion | Passerelle / medallion |
|---|---:|---:|---:|
| TAXII ingest, envelopes of 1,000 (objects/s) | $(int "$s_ingest") | $(int "$m_ingest") | $(ratio "$s_ingest" "$m_ingest") |
| paging reads, pages of 1,000 (objects/s) | $(int "$s_page") | $(int "$m_page") | $(ratio "$s_page" "$m_page") |
| Get An Object p50 (ms), $med_samples requests | $(value p50_ms "$dir/p-small-byid") | $(value p50_ms "$dir/m-byid") | $(ratio "$(value p50_ms "$dir/m-byid")" "$(value p50_ms "$dir/p-small-byid")") |
| Get An Object p99 (ms) | $(value p99_ms "$dir/p-small-byid") | $(value p99_ms "$dir/m-byid") | $(ratio "$(value p99_ms "$dir/m-byid")" "$(value p99_ms "$dir/p-small-byid")") |

For latencies the ratio is medallion time / Passerelle time (how many times faster Passerelle answers).
EOF
fi
