#!/usr/bin/env bash
# Benchmark of `passerelle validate`, single-threaded (taskset -c 0), printed as
# Markdown on stdout (progress goes to stderr):
#
#  1. throughput on real STIX 2.1 bundles (ATT&CK ICS and Mobile, CAPEC): the
#     median of BENCH_RUNS runs of `passerelle validate --format json FILE`, in
#     objects/s and MB/s, beside stix2-validator 3.3.2 on the same files (median
#     of BENCH_REF_RUNS runs) and the speed-up;
#  2. peak RSS (/usr/bin/time -v) on generated bundles of BENCH_SIZES_MB
#     megabytes (ATT&CK ICS objects repeated with fresh ids, written as a stream),
#     to show that memory stays flat as the input grows.
#
# The ATT&CK Enterprise file of shared/data is STIX 2.0, so it is not used.
# Uses hyperfine when it is installed (`apt-get install hyperfine`), else a loop
# with /usr/bin/time. Settings (environment):
#   BENCH_RUNS=5  BENCH_REF_RUNS=3  BENCH_SIZES_MB="100 1024"
#   BENCH_DIR=<repo>/target/bench (inputs, kept for reruns: about 1.2 GB with the defaults)
#   BENCH_NO_REF=1 (skip stix2-validator)  BENCH_NO_HYPERFINE=1 (time with the loop)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
runs="${BENCH_RUNS:-5}"
ref_runs="${BENCH_REF_RUNS:-3}"
sizes="${BENCH_SIZES_MB:-100 1024}"
dir="${BENCH_DIR:-$repo/target/bench}"
target="${CARGO_TARGET_DIR:-$repo/target}"
bin="$target/release/passerelle"
mkdir -p "$dir"

log() { echo "bench: $*" >&2; }
have_hyperfine() { [[ -z "${BENCH_NO_HYPERFINE:-}" ]] && command -v hyperfine >/dev/null; }
one_core() { if command -v taskset >/dev/null; then taskset -c 0 "$@"; else "$@"; fi; }
[[ -x /usr/bin/time ]] || { log "/usr/bin/time is missing (apt-get install time)"; exit 1; }

log "building passerelle (release)"
cargo build --release -p passerelle >&2

host_python="$(command -v python3)"
ref_python=""
if [[ -z "${BENCH_NO_REF:-}" ]]; then
    ref_python="$(bash scripts/python-env.sh)"
fi

# Inputs, unpacked: parsing gzip is not what is measured.
files=(attack/ics-attack-18.1 attack/mobile-attack-17.1 capec/capec-3.9.stix21-reassembled)
inputs=()
for f in "${files[@]}"; do
    out="$dir/$(basename "$f").json"
    [[ -s "$out" ]] || gzip -dc "testdata/$f.json.gz" > "$out"
    inputs+=("$out")
done

count_objects() {
    "$host_python" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["objects"]) if isinstance(d,dict) and "objects" in d else 1)' "$1"
}
size_mb() { "$host_python" -c 'import os,sys; print(f"{os.path.getsize(sys.argv[1])/1e6:.2f}")' "$1"; }

# median_seconds RUNS CMD... : median wall time of RUNS runs, output discarded.
median_seconds() {
    local n="$1"; shift
    if have_hyperfine; then
        local json="$dir/hyperfine.json"
        one_core hyperfine --style none --warmup 1 --runs "$n" --ignore-failure -N \
            --export-json "$json" -- "$*" >&2
        "$host_python" -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$json"
    else
        local times=() out="$dir/time.txt"
        for ((i = 0; i < n; i++)); do
            # The exit code is the command's (1 for invalid input), not a failure here.
            one_core /usr/bin/time -f '%e' -o "$out" "$@" >/dev/null 2>&1 || true
            times+=("$(tail -1 "$out")")
        done
        printf '%s\n' "${times[@]}" | sort -g | "$host_python" -c 'import sys; v=[float(x) for x in sys.stdin]; print(f"{v[len(v)//2]:.4f}")'
    fi
}

# peak_rss CMD... : "<peak RSS in MB> <seconds> <exit code>" of one run.
peak_rss() {
    local report="$dir/time-v.txt" code=0
    one_core /usr/bin/time -v -o "$report" "$@" >/dev/null 2>&1 || code=$?
    "$host_python" - "$report" "$code" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", text)
secs = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
print(f"{rss / 1024:.1f} {secs:.3f} {sys.argv[2]}")
PY
}

ratio() { "$host_python" -c 'import sys; a,b=map(float,sys.argv[1:]); print(f"{a/b:.1f}" if b > 0 else "-")' "$1" "$2"; }
rate() { "$host_python" -c 'import sys; a,b=map(float,sys.argv[1:]); print(f"{a/b:,.0f}" if b > 0 else "-")' "$1" "$2"; }

# Generated bundles: ICS objects over and over, each with a fresh id, streamed to disk.
generate() {
    local mb="$1" out="$dir/generated-${1}mb.json"
    if [[ ! -s "$out" ]]; then
        log "generating $out"
        "$host_python" - "${inputs[0]}" "$out" "$mb" <<'PY'
import json, os, sys, uuid
source, out, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
objects = json.load(open(source, encoding="utf-8"))["objects"]
# Each object as text around its id's UUID, so writing one copy is a concatenation.
parts = []
for o in objects:
    text = json.dumps(o, ensure_ascii=False, separators=(",", ":"))
    marker = '"id":' + json.dumps(o["id"])
    at = text.index(marker) + len('"id":"') + len(o["type"]) + 2  # after `"id":"<type>--`
    parts.append((text[:at], text[at + 36:]))
limit = mb * 1_000_000
written = count = 0
with open(out + ".tmp", "w", encoding="utf-8") as f:
    head = '{"type":"bundle","id":"bundle--%s","objects":[\n' % uuid.uuid4()
    f.write(head)
    written += len(head)
    while written < limit:
        for before, after in parts:
            piece = ("" if count == 0 else ",\n") + before + str(uuid.uuid4()) + after
            f.write(piece)
            written += len(piece) if piece.isascii() else len(piece.encode("utf-8"))
            count += 1
            if written >= limit:
                break
    f.write("\n]}\n")
os.replace(out + ".tmp", out)
PY
    fi
    echo "$out"
}

echo "## passerelle validate: throughput (one core)"
echo
ref_note="median of $ref_runs runs of stix2-validator 3.3.2"
[[ -n "$ref_python" ]] || ref_note="stix2-validator skipped (BENCH_NO_REF)"
echo "$(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, $(uname -m); median of $runs runs of passerelle, $ref_note; timed with $(have_hyperfine && hyperfine --version || echo 'a /usr/bin/time loop')"
echo
echo "*validate* is \`passerelle validate --errors-only\` (every check runs; only errors are printed); *with output* is \`--format json\`, which prints a JSON record for every warning too (ATT&CK has about 3.5 per object). Wall-clock times, process start included."
echo
echo "| file | MB | objects | validate s | objects/s | MB/s | with output s | objects/s | peak RSS MB | stix2-validator s | objects/s | speed-up (with output) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
big="$(generate "${BENCH_THROUGHPUT_MB:-100}")"
for input in "${inputs[@]}" "$big"; do
    name="$(basename "$input")"
    mb="$(size_mb "$input")"
    if [[ "$input" == "$big" ]]; then n="$(( $(wc -l < "$input") - 2 ))"; else n="$(count_objects "$input")"; fi
    log "passerelle validate $name"
    t="$(median_seconds "$runs" "$bin" validate --errors-only "$input")"
    t_out="$(median_seconds "$runs" "$bin" validate --format json "$input")"
    read -r rss _ _ < <(peak_rss "$bin" validate --format json "$input")
    ref_t="-" ref_rate="-" speedup="-"
    if [[ -n "$ref_python" && "$input" != "$big" ]]; then
        log "stix2-validator $name"
        ref_t="$(median_seconds "$ref_runs" "$(dirname "$ref_python")/stix2_validator" --version 2.1 --silent "$input")"
        ref_rate="$(rate "$n" "$ref_t")"
        speedup="$(ratio "$ref_t" "$t_out")×"
    fi
    echo "| $name | $mb | $n | $t | $(rate "$n" "$t") | $(rate "$mb" "$t") | $t_out | $(rate "$n" "$t_out") | $rss | $ref_t | $ref_rate | $speedup |"
done
echo
echo "## passerelle validate: memory as the input grows (one core, one run each)"
echo
echo "| input | MB | objects | seconds | objects/s | MB/s | peak RSS MB | exit |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for size in $sizes; do
    input="$(generate "$size")"
    mb="$(size_mb "$input")"
    # One object a line, between the bundle's first and last lines.
    n="$(( $(wc -l < "$input") - 2 ))"
    log "passerelle validate $(basename "$input")"
    read -r rss secs code < <(peak_rss "$bin" validate --format json "$input")
    echo "| $(basename "$input") | $mb | $n | $secs | $(rate "$n" "$secs") | $(rate "$mb" "$secs") | $rss | $code |"
done
echo
echo "Exit: the exit code of \`passerelle validate\` (non-zero when a file has errors: CAPEC has two invalid objects)."
