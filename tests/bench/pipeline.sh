#!/usr/bin/env bash
# tests/bench/pipeline.sh [-r rounds] [-n sizes]: the whole per-zone run
# (scripts/moma-zone: fetch | encode | put into the local Swift, two-phase)
# against the floor, psql COPY (same query) TO STDOUT (FORMAT binary) >
# /dev/null, with the default moma-fetch (copy mode), with moma-fetch -j 2
# and with moma-fetch --fetch-mode stream.
# Data: the fetch bench's databases (moma_SIZE in $MOMA_BENCH_PG, zone 3,
# all valid on 2026-11-01; lib.sh bench_db).  Interleaved rounds, medians;
# per-stage peak RSS from moma-zone's summary line.  What the same pipeline
# costs without S3 is fetch.sh's "fetch|encode" row.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${MOMA_BUILD:-$top/build/release}
pgdir=${MOMA_BENCH_PG:-/tmp/moma-bench-pg}
rounds=3 sizes="1000000 10000000"
# MOMA_BENCH_PIPELINE_ONLY_DEFAULT=1: moma-zone with default options only
# (long runs); MOMA_BENCH_WARMUP=0: no warm-up COPY.
all=yes
[ "${MOMA_BENCH_PIPELINE_ONLY_DEFAULT:-0}" = 0 ] || all=
while getopts r:n: o; do
	case $o in
	r) rounds=$OPTARG ;; n) sizes=$OPTARG ;;
	*) echo "usage: pipeline.sh [-r rounds] [-n sizes]" >&2; exit 64 ;;
	esac
done
. "$top/tests/bench/lib.sh"
bench_zone_servers pipeline
times=$bench_tmp/times

# The floor: moma-fetch's own query, bench data's zone and date.
query=$(cat "$top/tests/bench/floor.sql")

# zone NAME [FETCH_OPTS]: one moma-zone run; records wall and the stages'
# peak RSS (KiB) as "NAME wall fetch/encode/put".
zone() {
	local name=$1 s e line c0 c1
	c0=$(bench_cpu)
	bench_unpublish bench 3/2026-11-01/carousel.bin
	s=$(date +%s%N)
	line=$(MOMA_FETCH_OPTS=${2:-} "$top/scripts/moma-zone" 3 2026-11-01)
	e=$(date +%s%N)
	c1=$(bench_cpu)
	case $line in *status=ok*) ;; *) echo "pipeline.sh: moma-zone failed: $line" >&2; exit 1 ;; esac
	echo "$line" >"$bench_tmp/line.$name"
	echo "$name $(( (e - s) / 1000000 )) $(sed -E 's/.* fetch=([0-9]+)[^ ]* encode=([0-9]+)[^ ]* put=([0-9]+).*/\1\/\2\/\3/' <<<"$line") $c0 $c1" |
		awk '{ printf "%s %.3f %s %.2f\n", $1, $2 / 1000, $3, ($7 > $5) ? ($6 - $4) / ($7 - $5) : 0 }' >>"$times"
}
stage_rss() {   # stage_rss NAME INDEX(1 fetch, 2 encode, 3 put): the largest
	awk -v v="$1" -v i="$2" '$1 == v { split($3, a, "/"); if (a[i] > m) m = a[i] } END { print m + 0 }' "$times"
}

printf '| rows | variant | wall s (median) | rows/s | carousel MB/s | vs COPY floor | peak RSS KiB fetch/encode/put | machine busy (%s cores) |\n' "$(nproc)"
printf '|---:|---|---:|---:|---:|---:|---|---:|\n'
for size in $sizes; do
	bench_db "$size"
	export PGDATABASE=moma_$size
	[ "${MOMA_BENCH_WARMUP:-1}" = 0 ] || psql -Xqc "COPY ($query) TO STDOUT (FORMAT binary)" >/dev/null   # warm-up
	: >"$times"
	for r in $(seq "$rounds"); do
		bench_time copy "$times" psql -Xqc "COPY ($query) TO STDOUT (FORMAT binary)"
		zone "moma-zone" ""
		[ -z "$all" ] || zone "moma-zone(fetch-j2)" "-j 2"
		[ -z "$all" ] || zone "moma-zone(fetch-stream)" "--fetch-mode stream"
	done
	# More rounds for the noisiest row (fetch -j 2: two backends on the
	# cores the S3 server and the other stages share).
	for r in $(seq "${MOMA_BENCH_EXTRA_ROUNDS:-2}"); do
		[ -n "$all" ] || break
		bench_time copy "$times" psql -Xqc "COPY ($query) TO STDOUT (FORMAT binary)"
		zone "moma-zone(fetch-j2)" "-j 2"
	done
	base=$(bench_median "$times" copy)
	bytes=$(sed -E 's/.* bytes=([0-9]+) .*/\1/' "$bench_tmp/line.moma-zone")
	for v in copy moma-zone ${all:+"moma-zone(fetch-j2)" "moma-zone(fetch-stream)"}; do
		m=$(bench_median "$times" "$v")
		rss=-
		[ "$v" = copy ] || rss="$(stage_rss "$v" 1)/$(stage_rss "$v" 2)/$(stage_rss "$v" 3)"
		awk -v v="$v" -v n="$size" -v m="$m" -v base="$base" -v b="$bytes" -v rss="$rss" \
		    -v busy="$(bench_busy "$times" "$v")" 'BEGIN {
			printf "| %d | %s | %.3f | %.0f | %s | %.2fx | %s | %s |\n", n, v, m, n / m,
			    v == "copy" ? "-" : sprintf("%.0f", b / m / 1e6), base / m, rss, busy }'
	done
	# The last runs' summaries: each stage's seconds blocked reading and
	# writing say which one set the pace (README, moma-zone).
	for v in moma-zone ${all:+"moma-zone(fetch-j2)" "moma-zone(fetch-stream)"}; do
		printf '|  | %s: `%s` |  |  |  |  |  |  |\n' "$v" \
		    "$(sed -E 's/.*(rows=[^ ]+).*(seconds=[^ ]+) (guard=[^ ]+) (complete=[^ ]+) (fetch=[^ ]+) (encode=[^ ]+) (put=[^ ]+).*/\1 \2 \3 \4 \5 \6 \7/' "$bench_tmp/line.$v")"
	done
	# For the picture (run's SVG): the last default run's stages.
	[ -z "${MOMA_BENCH_SUMMARY:-}" ] || echo "$size $(bench_median "$times" moma-zone) $(bench_median "$times" copy) $(cat "$bench_tmp/line.moma-zone")" \
		>>"$MOMA_BENCH_SUMMARY.stages"
	label=$(bench_label "$size")
	bench_row "moma-zone into S3 vs COPY floor" "$label" "$(bench_median "$times" moma-zone)" COPY "$base" \
		"$size" "$bytes" 0 0.769 "" "wall <= 1.3x floor" "$(bench_spread "$times" moma-zone copy)"
	[ -z "$all" ] || bench_row "moma-zone, fetch -j 2" "$label" "$(bench_median "$times" "moma-zone(fetch-j2)")" COPY "$base" \
		"$size" "$bytes" 0 0.769 "" "wall <= 1.3x floor" "$(bench_spread "$times" "moma-zone(fetch-j2)" copy)"
	[ -z "$all" ] || bench_row "moma-zone, fetch --fetch-mode stream" "$label" "$(bench_median "$times" "moma-zone(fetch-stream)")" COPY "$base" \
		"$size" "$bytes" 0 0.769 "" "wall <= 1.3x floor" "$(bench_spread "$times" "moma-zone(fetch-stream)" copy)"
	for st in 1:moma-fetch 2:moma-encode; do
		bench_row "${st#*:} in moma-zone, memory" "$label" "$(bench_median "$times" moma-zone)" - 0 \
			0 0 "$(stage_rss moma-zone "${st%%:*}")" 0 16 "< 16 MiB"
	done
	bench_row "moma-put in moma-zone, memory" "$label" "$(bench_median "$times" moma-zone)" - 0 \
		0 0 "$(stage_rss moma-zone 3)" 0 48 "<= (4+1) x 8 + 8 MiB"
done
