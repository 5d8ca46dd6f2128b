#!/usr/bin/env bash
# tests/bench/peer.sh [-r rounds] [-n size]: moma-zone against the design it
# replaces, ../shared/peers/moma_py (MOMA_BENCH_PEER), on the same rows (the
# fetch bench's database moma_SIZE, default 1 M rows: the peer takes about
# 40 s a million), the same PostgreSQL and the same local Swift, rounds
# interleaved: peer, moma-zone.  The peer is run as its README says, with
# Debian's /usr/bin/python3 (python3-peewee python3-psycopg2 python3-boto3
# python3-smart-open, scripts/dev/moma-deps bench) and is not optimised.
# Rows: wall-time ratio and peak RSS ratio (moma-zone's largest stage
# against the peer process).  Not a test.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${MOMA_BUILD:-$top/build/release}
pgdir=${MOMA_BENCH_PG:-/tmp/moma-bench-pg}
peer=${MOMA_BENCH_PEER:-}
if [ -z "$peer" ]; then   # ../shared beside the checkout, or beside its worktree directory
	for d in "$top/../shared/peers/moma_py" "$top/../../shared/peers/moma_py"; do
		[ -f "$d/moma.py" ] && { peer=$(cd "$d" && pwd); break; }
	done
fi
peer=${peer:-../shared/peers/moma_py}
rounds=3 sizes=1000000
while getopts r:n: o; do
	case $o in
	r) rounds=$OPTARG ;; n) sizes=$OPTARG ;;
	*) echo "usage: peer.sh [-r rounds] [-n size]" >&2; exit 64 ;;
	esac
done
size=${sizes%% *}   # one size: the first (run passes every size)
[ "$size" -le 1000000 ] || size=1000000
if [ ! -f "$peer/moma.py" ] || ! /usr/bin/python3 -c 'import peewee, psycopg2, boto3, smart_open' 2>/dev/null; then
	echo "peer.sh: no $peer/moma.py or its Debian packages (scripts/dev/moma-deps bench): peer not measured" >&2
	echo "(peer not measured: $peer/moma.py or python3-peewee/psycopg2/boto3/smart-open missing)"
	exit 0
fi
. "$top/tests/bench/lib.sh"
bench_zone_servers peer
times=$bench_tmp/times
bench_db "$size"
export PGDATABASE=moma_$size
dsn="host=$PGHOST port=$PGPORT user=$PGUSER dbname=$PGDATABASE"

peer_run() {   # peer_run: one full peer run; "peer wall rss_kib" into $times
	local s e line
	s=$(date +%s%N)
	line=$(/usr/bin/python3 "$peer/moma.py" --zone 3 --date 2026-11-01 --dsn "$dsn" \
		--endpoint "$AWS_ENDPOINT_URL" --url s3://bench/peer/carousel.bin 2>&1 >/dev/null | tail -n 1)
	e=$(date +%s%N)
	case $line in *" OK"*) ;; *) echo "peer.sh: moma.py failed: $line" >&2; exit 1 ;; esac
	echo "$line" >"$bench_tmp/line.peer"
	echo "peer $(( (e - s) / 1000000 )) $(sed -E 's/.*maxrss=([0-9.]+)MiB.*/\1/' <<<"$line")" |
		awk '{ printf "%s %.3f %.0f\n", $1, $2 / 1000, $3 * 1024 }' >>"$times"
}
zone_run() {   # zone_run: one moma-zone run; "moma-zone wall largest_stage_rss_kib"
	local s e line
	bench_unpublish bench 3/2026-11-01/carousel.bin
	s=$(date +%s%N)
	line=$("$top/scripts/moma-zone" 3 2026-11-01)
	e=$(date +%s%N)
	case $line in *status=ok*) ;; *) echo "peer.sh: moma-zone failed: $line" >&2; exit 1 ;; esac
	echo "$line" >"$bench_tmp/line.zone"
	echo "moma-zone $(( (e - s) / 1000000 )) $(sed -E 's/.* fetch=([0-9]+)[^ ]* encode=([0-9]+)[^ ]* put=([0-9]+).*/\1 \2 \3/' <<<"$line")" |
		awk '{ m = $3; if ($4 > m) m = $4; if ($5 > m) m = $5; printf "%s %.3f %d %d\n", $1, $2 / 1000, m, $3 + $4 + $5 }' >>"$times"
}

: >"$times"
for r in $(seq "$rounds"); do
	peer_run
	zone_run
done
m=$(bench_median "$times" moma-zone) p=$(bench_median "$times" peer)
prss=$(bench_maxrss "$times" peer) mrss=$(bench_maxrss "$times" moma-zone)
sum=$(awk '$1 == "moma-zone" && $4 > s { s = $4 } END { print s + 0 }' "$times")
printf '| rows | run | wall s (median) | rows/s | peak RSS MiB |\n|---:|---|---:|---:|---:|\n'
awk -v n="$size" -v m="$m" -v p="$p" -v pr="$prss" -v mr="$mrss" -v sum="$sum" 'BEGIN {
	printf "| %d | moma_py (peewee, ctypes, smart_open) | %.2f | %.0f | %.1f |\n", n, p, n / p, pr / 1024
	printf "| %d | moma-zone (largest stage; all three %.1f) | %.2f | %.0f | %.1f |\n", n, sum / 1024, m, n / m, mr / 1024
}'
echo
echo "Last runs: \`$(cat "$bench_tmp/line.peer")\`"
echo
echo "\`$(sed -E 's/.*(rows=[^ ]+).*(seconds=[^ ]+) (guard=[^ ]+) (complete=[^ ]+) (fetch=[^ ]+) (encode=[^ ]+) (put=[^ ]+).*/\1 \2 \3 \4 \5 \6 \7/' "$bench_tmp/line.zone")\`"
label=$(bench_label "$size")
bench_row "moma-zone vs moma_py (the published design), wall" "$label" "$m" moma_py "$p" "$size" 0 "$mrss" 1 "" \
	"faster" "$(bench_spread "$times" moma-zone peer)"
awk -v pr="$prss" -v mr="$mrss" -v sum="$sum" 'BEGIN { printf "%.1f %.1f\n", pr / mr, pr / sum }' >"$bench_tmp/memratio"
bench_row "moma-zone vs moma_py, peak RSS (peer / largest stage: $(cut -d' ' -f1 "$bench_tmp/memratio")x, / all stages: $(cut -d' ' -f2 "$bench_tmp/memratio")x)" \
	"$label" "$m" - 0 0 0 "$sum" 0 "$(awk -v p="$prss" 'BEGIN { printf "%.1f", p / 1024 }')" \
	"less memory than the peer's $(awk -v p="$prss" 'BEGIN { printf "%.0f", p / 1024 }') MiB"
[ -z "${MOMA_BENCH_SUMMARY:-}" ] || echo "peer $size $m $p $mrss $prss" >>"$MOMA_BENCH_SUMMARY.stages"
