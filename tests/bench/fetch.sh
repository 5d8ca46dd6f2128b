#!/usr/bin/env bash
# tests/bench/fetch.sh [-r rounds] [-n sizes] [-m variants]: moma-fetch
# against the COPY floor.  Not run by the tests.  MOMA_BENCH_EXTRA_ROUNDS
# (default 2) more rounds of the noisy rows (COPY, copy-x2, the -j 2
# variants), after the others.
#
# For each size (default "1000000 10000000") a database moma_SIZE holds
# SIZE messages, all in zone 3 and valid on 2026-11-01 (moma-sample -z 3
# -d 1), so the whole table is fetched.  Databases live in a moma-pg cluster
# in $MOMA_BENCH_PG (default /tmp/moma-bench-pg), loaded once and reloaded
# only when the sample generator changes (lib.sh bench_db); the server is
# stopped at the end unless MOMA_BENCH_KEEP=1.  Each round runs every
# variant once, interleaved, so drift (cache, other load) hits them alike:
#   copy             psql -c "COPY (same query) TO STDOUT (FORMAT binary)"
#   copy-ordered     the same query in the carousel's order (ORDER BY
#                    campagne_id, id around it, as moma-fetch puts it around
#                    its own): the order's cost at the server
#   fetch-MODE-BATCH[-jK]  moma-fetch --fetch-mode MODE --batch BATCH [-j K]
#                    (variants MODE:BATCH[:K]; default "copy:5000
#                    copy:5000:2 stream:5000 stream:5000:2": the default
#                    mode, copy, and stream mode, each alone and with -j 2)
#   copy-x2          two psql COPY at once, each half of the rows (m.id % 2):
#                    what two backends can send on this machine with no
#                    client work, the ceiling of moma-fetch -j 2
#   fetch|encode     moma-fetch | moma-encode > /dev/null
# The table shows median wall time, rows/s, output MB/s, the speed ratio
# to COPY (above 1: faster), the largest peak RSS seen and how busy the
# whole machine was (median share of all cores: near 100% means the cores,
# not the program, set the pace), and the client's CPU time (psql's, or
# moma-fetch's; for the bash rows all of bash's children), from which the
# table's last line works out how far one moma-fetch process can merge
# -j K shards on a machine with cores to spare.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${MOMA_BUILD:-$top/build/release}
fetch=$build/bin/moma-fetch
encode=$build/bin/moma-encode
dir=${MOMA_BENCH_PG:-/tmp/moma-bench-pg}
rounds=5 sizes="1000000 10000000" extra=${MOMA_BENCH_EXTRA_ROUNDS:-2}
variants="copy:5000 copy:5000:2 stream:5000 stream:5000:2"
while getopts r:n:m: o; do
	case $o in
	r) rounds=$OPTARG ;; n) sizes=$OPTARG ;; m) variants=$OPTARG ;;
	*) echo "usage: fetch.sh [-r rounds] [-n sizes] [-m mode:batch[:jobs] ...]" >&2; exit 64 ;;
	esac
done
for b in "$fetch" "$encode" /usr/bin/time; do
	[ -x "$b" ] || { echo "fetch.sh: need $b (make; apt-get install time)" >&2; exit 69; }
done

export MOMA_PG_SHARED_BUFFERS=${MOMA_PG_SHARED_BUFFERS:-4GB}
bench_tmp=$(mktemp -d /tmp/moma-bench-fetch.XXXXXX)
cleanup() {
	rm -rf "$bench_tmp"
	[ "${MOMA_BENCH_KEEP:-0}" = 1 ] || "$top/scripts/dev/moma-pg" stop "$dir" >/dev/null
}
trap cleanup EXIT
eval "$("$top/scripts/dev/moma-pg" start "$dir")"
. "$top/tests/bench/lib.sh"
times=$bench_tmp/times

# The floor: moma-fetch's own query, bench data's zone and date.
query=$(cat "$top/tests/bench/floor.sql")
name_of() {   # variant -> column name
	local v=$1 mode batch jobs
	IFS=: read -r mode batch jobs <<<"$v"
	echo "fetch-$mode-$batch${jobs:+-j$jobs}"
}
run_variant() {   # run_variant VARIANT
	local mode batch jobs
	IFS=: read -r mode batch jobs <<<"$1"
	bench_time "$(name_of "$1")" "$times" "$fetch" --zone 3 --date 2026-11-01 \
		--fetch-mode "$mode" --batch "$batch" -j "${jobs:-1}"
}
copy_x2() {
	psql -Xqc "COPY ($query AND m.id % 2 = 0) TO STDOUT (FORMAT binary)" >/dev/null &
	psql -Xqc "COPY ($query AND m.id % 2 = 1) TO STDOUT (FORMAT binary)" >/dev/null || { wait; return 1; }
	wait $!
}
export -f copy_x2
export query

printf '| rows | variant | wall s (median) | rows/s | MB/s out | vs COPY | peak RSS KiB | machine busy (%s cores) | client CPU s |\n' "$(nproc)"
printf '|---:|---|---:|---:|---:|---:|---:|---:|---:|\n'
for size in $sizes; do
	bench_db "$size"
	export PGDATABASE=moma_$size
	# Warm-up, not counted, also measures the bytes each side sends
	# (MOMA_BENCH_WARMUP=0 skips it for long runs: no MB/s then).
	copy_bytes=0 fetch_bytes=0
	if [ "${MOMA_BENCH_WARMUP:-1}" != 0 ]; then
		copy_bytes=$(psql -Xqc "COPY ($query) TO STDOUT (FORMAT binary)" | wc -c)
		fetch_bytes=$("$fetch" --zone 3 --date 2026-11-01 | wc -c)
	fi
	: >"$times"
	for r in $(seq "$rounds"); do
		bench_time copy "$times" psql -Xqc "COPY ($query) TO STDOUT (FORMAT binary)"
		bench_time copy-x2 "$times" bash -c copy_x2
		bench_time copy-ordered "$times" psql -Xqc "COPY (SELECT * FROM ($query) AS q ORDER BY campagne_id, id) TO STDOUT (FORMAT binary)"
		for v in $variants; do run_variant "$v"; done
		bench_time "fetch|encode" "$times" bash -c 'set -o pipefail; "$1" --zone 3 --date 2026-11-01 | "$2"' _ "$fetch" "$encode"
	done
	# The rows that swing most between runs (two backends at once, on
	# cores shared with the client) get more rounds, still interleaved
	# with their baseline.
	for r in $(seq "$extra"); do
		bench_time copy "$times" psql -Xqc "COPY ($query) TO STDOUT (FORMAT binary)"
		bench_time copy-x2 "$times" bash -c copy_x2
		for v in $variants; do [[ $v != *:2 ]] || run_variant "$v"; done
	done
	base=$(bench_median "$times" copy)
	for v in copy copy-ordered copy-x2 $(for v in $variants; do name_of "$v"; done) "fetch|encode"; do
		m=$(bench_median "$times" "$v")
		b=$fetch_bytes
		case $v in copy|copy-ordered) b=$copy_bytes ;; esac
		awk -v v="$v" -v n="$size" -v m="$m" -v base="$base" -v b="$b" -v rss="$(bench_maxrss "$times" "$v")" \
		    -v busy="$(bench_busy "$times" "$v")" -v cpu="$(bench_cpus "$times" "$v")" 'BEGIN {
			name = v; gsub(/\|/, "\\|", name)
			printf "| %d | %s | %.3f | %.0f | %s | %.2fx | %s | %s | %s |\n", n, name, m, n / m,
			    v == "fetch|encode" ? "-" : sprintf("%.0f", b / m / 1e6), base / m,
			    v ~ /fetch\||x2/ ? "(bash)" : rss, busy, cpu }'
	done
	# One moma-fetch process merges every shard: its CPU per row bounds
	# -j K wherever the backends have cores of their own.  A client that
	# keeps up wakes for every few rows; one with more to read than time
	# (-j 2 here) reads fuller socket buffers and costs less per row.
	for mode in copy stream; do
		awk -v n="$size" -v mode="$mode" -v copy="$(bench_cpus "$times" copy)" -v one="$(bench_median "$times" copy)" \
		    -v f1="$(bench_cpus "$times" "fetch-$mode-5000")" -v f2="$(bench_cpus "$times" "fetch-$mode-5000-j2")" 'BEGIN {
			f = f2 > 0 ? f2 : f1
			if (f > 0)
				printf "%d rows, %s mode: client CPU per M rows %.2f s, with -j 2 %s s (psql COPY %.2f s). At %.2f s one moma-fetch process merges at most %.1f M rows/s, %.1fx what one backend sent here.\n",
				    n, mode, f1 * 1e6 / n, (f2 > 0 ? sprintf("%.2f", f2 * 1e6 / n) : "-"), copy * 1e6 / n,
				    f * 1e6 / n, n / f / 1e6, one / f }' >>"$bench_tmp/cpu"
	done
	label=$(bench_label "$size")
	for mode in copy stream; do
		v=fetch-$mode-5000 what="moma-fetch"
		[ $mode = copy ] || what="moma-fetch --fetch-mode $mode"
		grep -q "^$v " "$times" || continue
		bench_row "$what vs COPY" "$label" "$(bench_median "$times" $v)" COPY "$base" \
			"$size" "$fetch_bytes" "$(bench_maxrss "$times" $v)" 0.95 16 ">= 0.95x, < 16 MiB" \
			"$(bench_spread "$times" $v copy)"
		grep -q "^$v-j2 " "$times" || continue
		bench_row "$what -j 2 vs COPY" "$label" "$(bench_median "$times" $v-j2)" COPY "$base" \
			"$size" "$fetch_bytes" "$(bench_maxrss "$times" $v-j2)" 1.7 16 ">= 1.7x, < 16 MiB" \
			"$(bench_spread "$times" $v-j2 copy)"
	done
	bench_row "(the carousel order at the server: COPY ... ORDER BY campagne_id, id vs COPY)" "$label" \
		"$(bench_median "$times" copy-ordered)" COPY "$base" "$size" "$copy_bytes" 0 0.91 "" "at most +10%"
	bench_row "(ceiling of -j 2: two bare COPY halves vs COPY)" "$label" "$(bench_median "$times" copy-x2)" COPY "$base" \
		"$size" "$copy_bytes" 0 1.7 "" "(>= 1.7x if -j 2 can be)" "$(bench_spread "$times" copy-x2 copy)"
	bench_row "moma-fetch \\| moma-encode > /dev/null vs COPY" "$label" "$(bench_median "$times" "fetch|encode")" \
		COPY "$base" "$size" 0 0 0.91 "" "within 1.1x" "$(bench_spread "$times" "fetch|encode" copy)"
done
echo
[ ! -s "$bench_tmp/cpu" ] || cat "$bench_tmp/cpu"
