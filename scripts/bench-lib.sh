# Helpers the benchmark scripts share; sourced, not run.
# client_malloc, log MESSAGE..., value KEY FILE, ratio A B, int N, median VALUES...,
# wait_for_line FILE PATTERN PID, peak_rss_mb PID, psql_admin SQL (on "$pg_server").

log() { echo "bench: $*" >&2; }
# The glibc malloc settings of the load generator (`GLIBC_TUNABLES="$client_malloc"
# "$tool" ...`). It stands for clients on other machines, yet shares this machine's two
# cores with the server: by default glibc gave each page's buffers back to the kernel
# and faulted them in again for the next page (40,000 page faults per walk of 300,000
# objects, a quarter of the client's CPU), time the server did not get.
client_malloc="glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=268435456"
# value KEY FILE: the value of a `key value` line.
value() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
# ratio A B: A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'; }
# int N: N with thousands separators.
int() { awk -v n="$1" 'BEGIN { s = sprintf("%.0f", n); r = ""; while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) } print s r }'; }
# median VALUES...: the median (the lower middle one for an even count).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# wait_for_line FILE PATTERN PID: waits until FILE has a line matching PATTERN, or fails if PID exits.
wait_for_line() {
    local file="$1" pattern="$2" pid="$3"
    until grep -q "$pattern" "$file" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || { log "process $pid exited:"; cat "$file" "$file.err" >&2 2>/dev/null || true; exit 1; }
        sleep 0.05  # polling the condition (the printed URL), not guessing a start-up time
    done
}
# peak_rss_mb PID: the process's peak resident set so far, in MB.
peak_rss_mb() { awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
# psql_admin SQL: runs SQL on the maintenance database of the server "$pg_server".
psql_admin() { psql "$pg_server/postgres" -v ON_ERROR_STOP=1 -q -c "$1" >&2; }
