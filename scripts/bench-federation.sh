#!/usr/bin/env bash
# Federation throughput between two real nodes on this machine, printed as Markdown on
# stdout (progress goes to stderr). Builds release binaries, then, BENCH_RUNS times on
# fresh nodes:
#
#  1. makes two nodes, Rabat (A) and Paris (B), with `passerelle init`, each the
#     other's partner, and imports BENCH_OBJECTS generated objects (TLP:GREEN
#     indicators, malware and relationships of about 700 bytes, benches/taxii) into
#     A's `outbox`, which A's agreement shares with B up to GREEN;
#  2. starts both as `passerelle serve` on 127.0.0.1 (sync workers off) and times:
#     - pull: `passerelle sync rabat` on B, which pages through A's `outbox` with B's
#       account there (A: egress rules, signature, `disclosed` ledger entries; B:
#       parse, validation, signature check, store with `received` ledger entries);
#     - push: `passerelle sync paris` on A, which posts the same objects to B
#       (A: egress, signature, ledger; B, behind its TAXII server: validation,
#       signature check, store, ledger);
#     - file: `passerelle export --partner paris` on A, then `passerelle import --from
#       rabat` of that file on B;
#  3. measures in one process what each step costs per object (`taxii-bench
#     federation-costs`), to say where the time goes.
#
# Every figure counts the objects that crossed (BENCH_OBJECTS and the 3 objects A
# publishes for its signatures), checked against what each command reports.
# Settings (environment): BENCH_OBJECTS=100000 BENCH_RUNS=3 BENCH_COSTS=20000
#   BENCH_DIR=<repo>/target/bench-federation
#   BENCH_BIN_DIR=<dir>: run the passerelle and taxii-bench binaries in <dir> (built
#   beforehand, e.g. copies of an older build to compare with) instead of building.
# A quick check that everything works: scripts/bench-federation.sh --quick
# (BENCH_OBJECTS=10000 BENCH_RUNS=1 BENCH_COSTS=5000).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# shellcheck source=scripts/bench-lib.sh
source "$repo/scripts/bench-lib.sh"
if [[ "${1:-}" == "--quick" ]]; then
    : "${BENCH_OBJECTS:=10000}" "${BENCH_RUNS:=1}" "${BENCH_COSTS:=5000}"
elif [[ -n "${1:-}" ]]; then
    echo "usage: $0 [--quick]" >&2
    exit 2
fi
objects="${BENCH_OBJECTS:-100000}"
runs="${BENCH_RUNS:-3}"
costs_objects="${BENCH_COSTS:-20000}"
dir="${BENCH_DIR:-$repo/target/bench-federation}"
target="${CARGO_TARGET_DIR:-$repo/target}"
bin_dir="${BENCH_BIN_DIR:-$target/release}"
bin="$bin_dir/passerelle"
tool="$bin_dir/taxii-bench"

if [[ -z "${BENCH_BIN_DIR:-}" ]]; then
    log "building passerelle and taxii-bench (release)"
    cargo build --release -p passerelle -p taxii-bench >&2
fi

mkdir -p "$dir"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# now: seconds since the epoch, with nanoseconds.
now() { date +%s.%N; }
# rate N START END: N / (END - START), rounded.
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
# free_port: a port free now on 127.0.0.1 (the two nodes must know each other's before starting).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# json_field FIELD: the number FIELD of the JSON line on stdin.
json_field() { python3 -c "import json, sys; print(json.loads(sys.stdin.readline())['$1'])"; }
# field NAME JSON: a top-level field of a JSON object.
field() { python3 -c "import json, sys; print(json.loads(sys.argv[2])[sys.argv[1]])" "$1" "$2"; }

bundle="$dir/bundle-$objects.json"
if [[ ! -s "$bundle" ]]; then
    log "writing $objects generated objects to $bundle"
    "$tool" bundle --out "$bundle" --seed 5 --count "$objects" > /dev/null
fi
crossing=$((objects + 3))

pull_rates=() push_rates=() export_rates=() import_rates=() file_rates=()
for run in $(seq 1 "$runs"); do
    run_dir="$dir/run-$run"
    rm -rf "$run_dir"
    a="$run_dir/rabat" b="$run_dir/paris"
    log "run $run of $runs: two nodes in $run_dir"
    "$bin" init --data "$a" --name Rabat > /dev/null
    "$bin" init --data "$b" --name Paris > /dev/null
    a_show="$("$bin" identity show --data "$a" --format json)"
    b_show="$("$bin" identity show --data "$b" --format json)"
    outbox="$("$bin" collection add Outbox --alias outbox --data "$a")"
    "$bin" collection add Inbox --alias inbox --data "$b" > /dev/null
    pushed="$("$bin" collection add Pushed --alias pushed --data "$b")"
    "$bin" collection add "From files" --alias file-in --data "$b" > /dev/null
    "$bin" account add paris --data "$a" > /dev/null
    "$bin" account grant paris outbox --read --data "$a" > /dev/null
    token_a="$("$bin" token create paris --data "$a" 2> /dev/null)"
    "$bin" account add rabat --data "$b" > /dev/null
    "$bin" account grant rabat pushed --read --write --data "$b" > /dev/null
    token_b="$("$bin" token create rabat --data "$b" 2> /dev/null)"
    port_a="$(free_port)" port_b="$(free_port)"
    cat >> "$a/passerelle.toml" <<EOF

[server]
listen = "127.0.0.1:$port_a"

[[partners]]
name = "paris"
identity = "$(field identity "$b_show")"
public_key = "$(field public_key "$b_show")"
url = "http://127.0.0.1:$port_b/"
token_env = "BENCH_TOKEN_PARIS"
account = "paris"
push = [{ local = "outbox", remote = "$pushed" }]
[partners.outbound]
collections = ["outbox"]
max_tlp = "green"
EOF
    cat >> "$b/passerelle.toml" <<EOF

[server]
listen = "127.0.0.1:$port_b"

[[partners]]
name = "rabat"
identity = "$(field identity "$a_show")"
public_key = "$(field public_key "$a_show")"
url = "http://127.0.0.1:$port_a/"
token_env = "BENCH_TOKEN_RABAT"
account = "rabat"
pull = [{ remote = "$outbox", into = "inbox" }]
[partners.inbound]
collection = "file-in"
EOF
    log "importing $objects objects into Rabat's outbox"
    "$bin" import "$bundle" --collection outbox --data "$a" > /dev/null

    for node in "$a" "$b"; do
        PASSERELLE__SYNC__ENABLED=false PASSERELLE__LOG__LEVEL=warn \
            "$bin" serve --data "$node" > "$node.serve" 2> "$node.serve.err" &
        pids+=("$!")
        wait_for_line "$node.serve" "Passerelle is serving" "$!"
    done

    log "pull: Paris pulls $crossing objects from Rabat"
    start="$(now)"
    BENCH_TOKEN_RABAT="$token_a" PASSERELLE__LOG__LEVEL=warn "$bin" sync rabat --data "$b" --format json > "$run_dir/pull.json"
    end="$(now)"
    added="$(json_field added < "$run_dir/pull.json")"
    [[ "$added" == "$crossing" ]] || { log "pull added $added, expected $crossing: $(cat "$run_dir/pull.json")"; exit 1; }
    pull_rates+=("$(rate "$crossing" "$start" "$end")")

    log "push: Rabat pushes $crossing objects to Paris"
    start="$(now)"
    BENCH_TOKEN_PARIS="$token_b" PASSERELLE__LOG__LEVEL=warn "$bin" sync paris --data "$a" --format json > "$run_dir/push.json"
    end="$(now)"
    sent="$(json_field sent < "$run_dir/push.json")"
    [[ "$sent" == "$crossing" ]] || { log "push sent $sent, expected $crossing: $(cat "$run_dir/push.json")"; exit 1; }
    push_rates+=("$(rate "$crossing" "$start" "$end")")

    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    pids=()

    log "file: export for Paris, import from Rabat"
    start="$(now)"
    "$bin" export --partner paris --out "$run_dir/transfer.json" --data "$a" > "$run_dir/export.out"
    middle="$(now)"
    "$bin" import --from rabat "$run_dir/transfer.json" --data "$b" > "$run_dir/import.out"
    end="$(now)"
    grep -q "$crossing added" "$run_dir/import.out" || { log "import: $(cat "$run_dir/import.out")"; exit 1; }
    export_rates+=("$(rate "$crossing" "$start" "$middle")")
    import_rates+=("$(rate "$crossing" "$middle" "$end")")
    file_rates+=("$(rate "$crossing" "$start" "$end")")
    log "run $run: pull ${pull_rates[-1]}/s, push ${push_rates[-1]}/s, export ${export_rates[-1]}/s, import ${import_rates[-1]}/s"
done

log "per-object costs over $costs_objects objects, in one process"
"$tool" federation-costs --objects "$costs_objects" > "$dir/costs"
cost() { awk -v k="us_$1" '$1 == k { print $2 }' "$dir/costs"; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }

# all VALUES...: each run's figure, separated by slashes.
all() { local out="" v; for v in "$@"; do out+="${out:+ / }$(int "$v")"; done; echo "$out"; }
cat <<EOF
## Federation benchmark

$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM; $(date -u +%Y-%m-%dT%H:%MZ); commit $(git describe --always --dirty); load average at the end $(cut -d' ' -f1-3 /proc/loadavg).
\`scripts/bench-federation.sh\` with BENCH_OBJECTS=$objects BENCH_RUNS=$runs: two \`passerelle serve\` nodes on 127.0.0.1, $(int "$crossing") objects crossing ($(int "$objects") generated TLP:GREEN objects of about 700 bytes and the 3 objects the sender publishes), fresh nodes for each run.

| exchange | objects/s (median of $runs) | each run |
|---|---:|---|
| pull: \`sync\` on the receiver, pages of 1,000 over TAXII | $(int "$(median "${pull_rates[@]}")") | $(all "${pull_rates[@]}") |
| push: \`sync\` on the sender, envelopes to the partner's TAXII | $(int "$(median "${push_rates[@]}")") | $(all "${push_rates[@]}") |
| file: \`export --partner\` | $(int "$(median "${export_rates[@]}")") | $(all "${export_rates[@]}") |
| file: \`import --from\` | $(int "$(median "${import_rates[@]}")") | $(all "${import_rates[@]}") |
| file: export and import together | $(int "$(median "${file_rates[@]}")") | $(all "${file_rates[@]}") |

Per object, in one process, on one thread unless said (\`taxii-bench federation-costs --objects $costs_objects\`, median of 3 runs of each step), in µs:

| side | step | µs per object |
|---|---|---:|
| sender | read a page from the store, with provenance | $(cost read) |
| sender | egress decision (\`Federation::decide\`, on every core: wall-clock), signature included | $(cost decide) |
| sender | the Ed25519 signature alone, one thread (canonical JSON + sign) | $(cost sign) |
| sender | \`disclosed\` ledger entry (\`Federation::record\` of decided pages) | $(cost record) |
| sender | \`Federation::disclose\` (decision and ledger entry, one call) | $(cost disclose) |
| receiver | strict JSON parse | $(cost parse) |
| receiver | STIX validation | $(cost validate) |
| receiver | signature check, one at a time (parses the object again) | $(cost verify) |
| receiver | signature checks batched 500 at a time (\`signature::verify_many\`, one thread) | $(cost verify_batch) |
| receiver | intake one object at a time: parse, validation, signature check, query columns | $(cost intake) |
| receiver | intake of pages of 1,000 as the pull runs it (\`receive_page\`: every core, batched) | $(cost intake_page) |
| receiver | store a batch with \`received\` ledger entries | $(cost store_received) |
| receiver | store the same batch as an import (no ledger) | $(cost store_import) |
| receiver | of which the \`received\` ledger entry | $(sub "$(cost store_received)" "$(cost store_import)") |
EOF
