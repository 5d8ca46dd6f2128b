#!/usr/bin/env bash
# tests/bench/pipeline.sh [-r rounds] [-n sizes]: the whole per-zone run
# (scripts/moma-zone: fetch | encode | put into the local Swift, two-phase)
# against the floor, psql COPY (same query) TO STDOUT (FORMAT binary) >
# /dev/null, and against the same pipeline with the carousel sent to
# /dev/null instead of S3 (what the local S3 server costs on these cores).
# Data: the fetch bench's databases (moma_SIZE in $MOMA_BENCH_PG, zone 3,
# all valid on 2026-11-01), loaded once and reused.  Interleaved rounds,
# medians; per-stage peak RSS from moma-zone's summary line.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${MOMA_BUILD:-$top/build/release}
pgdir=${MOMA_BENCH_PG:-/tmp/moma-bench-pg}
rounds=3 sizes="1000000 10000000"
while getopts r:n: o; do
	case $o in
	r) rounds=$OPTARG ;; n) sizes=$OPTARG ;;
	*) echo "usage: pipeline.sh [-r rounds] [-n sizes]" >&2; exit 64 ;;
	esac
done
tmp=$(mktemp -d)
s3dir=$tmp/s3
cleanup() {
	"$top/scripts/moma-s3-server" stop "$s3dir" >/dev/null 2>&1 || true
	"$top/scripts/moma-pg" stop "$pgdir" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
eval "$("$top/scripts/moma-pg" start "$pgdir")"
eval "$("$top/scripts/moma-s3-server" start "$s3dir")"
curl -s -o /dev/null --aws-sigv4 "aws:amz:$AWS_REGION:s3" --netrc-file "$MOMA_S3_NETRC" \
	-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X PUT "$AWS_ENDPOINT_URL/bench"
export MOMA_BUCKET=bench MOMA_BIN=$build/bin

# The floor: moma-fetch's own query, bench data's zone and date.
query=$(cat "$top/tests/bench/floor.sql")

printf '| rows | variant | wall s (median) | rows/s | vs COPY floor | peak RSS KiB fetch/encode/put |\n'
printf '|---:|---|---:|---:|---:|---|\n'
for size in $sizes; do
	export PGDATABASE=moma_$size
	have=$(psql -XAtq -c "SELECT count(*) FROM messages" 2>/dev/null || echo 0)
	if [ "$have" != "$size" ]; then
		psql -XAtq -d postgres -c "CREATE DATABASE moma_$size" >/dev/null 2>&1 || true
		echo "# loading $size rows into moma_$size" >&2
		MOMA_BUILD=$build "$top/scripts/moma-sample" -n "$size" -z 3 -d 1 -S 2026-11-01 >&2
	fi
	psql -Xqc "COPY ($query) TO STDOUT (FORMAT binary)" >/dev/null   # warm-up
	: > "$tmp/t.$size"
	for r in $(seq "$rounds"); do
		s=$(date +%s%N)
		psql -Xqc "COPY ($query) TO STDOUT (FORMAT binary)" >/dev/null
		echo "copy $(( ($(date +%s%N) - s) / 1000000 )) -" >> "$tmp/t.$size"
		s=$(date +%s%N)
		/usr/bin/time -f "%M" -o "$tmp/r1" "$build/bin/moma-fetch" --zone 3 --date 2026-11-01 |
			/usr/bin/time -f "%M" -o "$tmp/r2" "$build/bin/moma-encode" > /dev/null
		echo "fetch|encode>/dev/null $(( ($(date +%s%N) - s) / 1000000 )) $(cat "$tmp/r1")/$(cat "$tmp/r2")/-" >> "$tmp/t.$size"
		s=$(date +%s%N)
		line=$("$top/scripts/moma-zone" 3 2026-11-01)
		ms=$(( ($(date +%s%N) - s) / 1000000 ))
		rss=$(sed -E 's/.* fetch=([0-9]+)[^ ]* encode=([0-9]+)[^ ]* put=([0-9]+).*/\1\/\2\/\3/' <<<"$line")
		echo "moma-zone(S3) $ms $rss" >> "$tmp/t.$size"
	done
	for v in copy "fetch|encode>/dev/null" "moma-zone(S3)"; do
		awk -v v="$v" '$1 == v' "$tmp/t.$size" | sort -k2,2n |
		awk -v v="$v" -v n="$size" -v base="$(awk '$1 == "copy"' "$tmp/t.$size" | sort -k2,2n | awk '{ a[NR] = $2 } END { print a[int((NR + 1) / 2)] }')" '
		  { w[++k] = $2; r = $3 } END { m = w[int((k + 1) / 2)] / 1000
		    printf "| %d | %s | %.2f | %.0f | %.2fx | %s |\n", n, v, m, n / m, (base / 1000) / m, r }'
	done
done
