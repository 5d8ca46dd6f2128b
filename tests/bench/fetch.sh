#!/usr/bin/env bash
# tests/bench/fetch.sh [-r rounds] [-n sizes] [-m modes]: moma-fetch against
# the COPY floor.  Not run by the tests.
#
# For each size (default "1000000 10000000") a database moma_SIZE holds
# SIZE messages, all in zone 3 and valid on 2026-11-01 (moma-sample -z 3
# -d 1), so the whole table is fetched.  Databases live in a moma-pg cluster
# in $MOMA_BENCH_PG (default /tmp/moma-bench-pg) and are loaded once and
# reused by later runs; the server is stopped at the end unless
# MOMA_BENCH_KEEP=1.  Each round runs every variant once, interleaved, so
# drift (cache, other load) hits them alike:
#   copy             psql -c "COPY (same query) TO STDOUT (FORMAT binary)"
#   fetch-MODE-BATCH moma-fetch --fetch-mode MODE --batch BATCH
#   fetch|encode     moma-fetch | moma-encode, if moma-encode is built
# Wall time and peak RSS come from /usr/bin/time; the table shows medians,
# rows/s, the ratio to COPY's rows/s and the largest RSS seen.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${MOMA_BUILD:-$top/build/release}
fetch=$build/bin/moma-fetch
encode=$build/bin/moma-encode
dir=${MOMA_BENCH_PG:-/tmp/moma-bench-pg}
rounds=5 sizes="1000000 10000000"
variants="pipeline:5000 single:5000 plain:5000 pipeline:1000 pipeline:20000"
while getopts r:n:m: o; do
	case $o in
	r) rounds=$OPTARG ;; n) sizes=$OPTARG ;; m) variants=$OPTARG ;;
	*) echo "usage: fetch.sh [-r rounds] [-n sizes] [-m mode:batch ...]" >&2; exit 64 ;;
	esac
done
[ -x "$fetch" ] && [ -x /usr/bin/time ] || { echo "fetch.sh: need $fetch (make) and /usr/bin/time" >&2; exit 69; }

export MOMA_PG_SHARED_BUFFERS=${MOMA_PG_SHARED_BUFFERS:-4GB}
eval "$("$top/scripts/moma-pg" start "$dir")"
[ "${MOMA_BENCH_KEEP:-0}" = 1 ] || trap '"$top/scripts/moma-pg" stop "$dir"' EXIT

# The floor: moma-fetch's own query, bench data's zone and date.
query=$(cat "$top/tests/bench/floor.sql")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ "${MOMA_BENCH_KEEP:-0}" = 1 ] || "$top/scripts/moma-pg" stop "$dir"' EXIT

# run NAME CMD...: one timed run, appends "NAME wall rss" to $tmp/times.
run() {
	local name=$1; shift
	/usr/bin/time -f "%e %M" -o "$tmp/t" "$@" >/dev/null
	echo "$name $(cat "$tmp/t")" >>"$tmp/times.$size"
}

printf '%-10s %-22s %9s %12s %9s %9s\n' rows variant wall_s rows_per_s vs_copy rss_kib
for size in $sizes; do
	db=moma_$size
	export PGDATABASE=$db
	if [ "$(psql -XAtq -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
		psql -Xq -d postgres -c "CREATE DATABASE $db"
	fi
	have=$(psql -XAtq -c "SELECT count(*) FROM messages" 2>/dev/null || echo 0)
	if [ "$have" != "$size" ]; then
		echo "# loading $size rows into $db" >&2
		MOMA_BUILD=$build "$top/scripts/moma-sample" -n "$size" -z 3 -d 1 -S 2026-11-01 >&2
	fi
	psql -XAtq -c "SELECT pg_prewarm('messages')" >/dev/null 2>&1 || true
	# Warm-up, not counted: brings the tables into shared buffers / page cache.
	psql -Xqc "COPY ($query) TO STDOUT (FORMAT binary)" >/dev/null
	: >"$tmp/times.$size"
	for r in $(seq "$rounds"); do
		run copy psql -Xqc "COPY ($query) TO STDOUT (FORMAT binary)"
		for v in $variants; do
			run "fetch-${v/:/-}" "$fetch" --zone 3 --date 2026-11-01 \
			    --fetch-mode "${v%:*}" --batch "${v#*:}"
		done
		if [ -x "$encode" ]; then
			run "fetch|encode" bash -c 'set -o pipefail; "$1" --zone 3 --date 2026-11-01 | "$2"' _ "$fetch" "$encode"
		fi
	done
	awk -v size="$size" '
	{ w[$1] = w[$1] " " $2; if ($3 > rss[$1]) rss[$1] = $3; if (!($1 in seen)) { seen[$1] = 1; order[n++] = $1 } }
	function median(s,   a, k, i, j, t) {
		k = split(s, a, " ")
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	END {
		base = median(w["copy"])
		for (i = 0; i < n; i++) {
			v = order[i]; m = median(w[v])
			printf "%-10s %-22s %9.3f %12.0f %9.2f %9d\n", size, v, m, size / m, base / m, rss[v]
		}
	}' "$tmp/times.$size"
done
