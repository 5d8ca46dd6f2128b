#!/usr/bin/env bash
# tests/bench/incremental.sh [ROWS] [CAMPAIGNS]: issue 22's cases for
# incremental regeneration, on this machine, with the servers the suite
# uses (scripts/dev/moma-pg, scripts/dev/moma-s3-server: Swift), one zone holding
# every row (default 1000000 rows over 3000 campaigns):
#
#   tracking   the trigger cost: COPY of ROWS messages into an indexed
#              table without and with moma-tracking.sql (wall, temp files
#              and bytes from pg_stat_database)
#   full       moma-zone --full
#   unchanged  moma-zone, nothing changed
#   1%         one message updated in each of 1% of the campaigns, scattered
#   appended   new campaigns at the end, 1% of the rows
#
# Prints one Markdown table; each moma-zone case is run after a full
# publication of the same data, its summary line kept under the table.
# Uses the release build (MOMA_BUILD to change).  Not part of make check.
# As a section of make bench (MOMA_BENCH_SECTIONS=incremental): -n "SIZES"
# runs each size over 3000 campaigns, one round each (-r is ignored).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${MOMA_BUILD:-$top/build/release}
if [ "${1:-}" = -r ] || [ "${1:-}" = -n ]; then
	sizes=
	while getopts r:n: o; do case $o in n) sizes=$OPTARG ;; *) ;; esac; done
	for n in $sizes; do
		echo "#### $n rows, 3000 campaigns"
		echo
		"$0" "$n" 3000
		echo
	done
	exit 0
fi
rows=${1:-1000000} camps=${2:-3000}
tmp=$(mktemp -d /tmp/moma-bench-incr.XXXXXX)
chmod 755 "$tmp"	# the server may run as postgres
cleanup() {
	"$top/scripts/dev/moma-s3-server" stop "$tmp/s3" >/dev/null 2>&1 || true
	"$top/scripts/dev/moma-pg" stop "$tmp/pg" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
eval "$("$top/scripts/dev/moma-pg" start "$tmp/pg")"
export PGHOST PGPORT PGDATABASE PGUSER
eval "$("$top/scripts/dev/moma-s3-server" start "$tmp/s3")"
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
curl -sS -o /dev/null --aws-sigv4 "aws:amz:$AWS_REGION:s3" --netrc-file "$MOMA_S3_NETRC" \
	-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X PUT "$AWS_ENDPOINT_URL/bench"
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
day=2026-11-20

MOMA_BUILD=$build "$top/scripts/dev/moma-sample" -n "$rows" -c "$camps" -z 3 2>/dev/null
sql -c "UPDATE campagnes SET zone_diffusion = 3, valid_start = '2026-11-01', valid_end = '2026-12-31'"
sql -c "VACUUM ANALYZE campagnes"

# ---- the trigger cost: the same COPY without and with tracking --------------------
sql -c "COPY messages TO '$tmp/messages.copy'" 2>/dev/null ||
	sql -c "COPY messages TO STDOUT" > "$tmp/messages.copy"
copy_cost() {	# prints "wall_s temp_files temp_bytes"
	local t0 f0 b0 f1 b1
	sql -c "TRUNCATE messages"
	read -r f0 b0 < <(sql -F ' ' -c "SELECT temp_files, temp_bytes FROM pg_stat_database WHERE datname = current_database()")
	t0=$(date +%s%N)
	sql -c "\\copy messages FROM '$tmp/messages.copy'"
	sleep 1	# the statistics collector
	read -r f1 b1 < <(sql -F ' ' -c "SELECT temp_files, temp_bytes FROM pg_stat_database WHERE datname = current_database()")
	echo "$(( ($(date +%s%N) - t0 - 1000000000) / 1000000 )) $((f1 - f0)) $((b1 - b0))"
}
read -r w_off f_off b_off < <(copy_cost)
sql -f "$top/scripts/moma-tracking.sql" >/dev/null 2>&1
read -r w_on f_on b_on < <(copy_cost)
sql -c "VACUUM ANALYZE messages"

# ---- moma-zone ----------------------------------------------------------------------
printf '3 Bench\n' > "$tmp/zones"
export MOMA_ZONES=$tmp/zones MOMA_BIN=$build/bin MOMA_BUCKET=bench MOMA_KEY="{zone}/carousel.bin" \
	MOMA_CACHE_DIR=$tmp/cache MOMA_MAX_DROP=100
zone() {	# zone CASE [ARGS]: one run; a table row
	local name=$1 line t0 ms
	shift
	t0=$(date +%s%N)
	line=$("$top/scripts/moma-zone" "$@" 3 "$day" 2>"$tmp/zone.err") || { cat "$tmp/zone.err" >&2; exit 1; }
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	echo "$name|$line" >> "$tmp/lines"
	f() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$line"; }
	printf '| %s | %s | %s | %s | %s | %s | %s.%03d |\n' "$name" "$(f status)" "$(f mode)" "$(f rows)" \
		"$(f reused)" "$(f bytes)" $((ms / 1000)) $((ms % 1000))
}
: > "$tmp/lines"
echo "| case | status | mode | rows read | reused campaigns/bytes | carousel bytes | wall s |"
echo "|---|---|---|---|---|---|---|"
zone "first (full)" >/dev/null
zone "full" --full
zone "unchanged"
n1=$(( camps / 100 > 0 ? camps / 100 : 1 ))
sql -c "UPDATE messages SET template_id = template_id + 1 WHERE id IN (
	  SELECT min(m.id) FROM messages m WHERE m.campagne_id_fk IN (
	    SELECT id FROM campagnes ORDER BY md5(id::text) LIMIT $n1) GROUP BY m.campagne_id_fk)"
zone "full, same data" --full >/dev/null
sql -c "UPDATE messages SET template_id = template_id + 1 WHERE id IN (
	  SELECT min(m.id) FROM messages m WHERE m.campagne_id_fk IN (
	    SELECT id FROM campagnes ORDER BY md5(id::text) LIMIT $n1) GROUP BY m.campagne_id_fk)"
zone "1% of campaigns changed, scattered"
zone "full, same data" --full
sql -c "INSERT INTO campagnes SELECT id + 10000000, 3, '2026-11-01', '2026-12-31', genre, ack_count, ack_delay, nom
	  FROM campagnes ORDER BY id LIMIT $n1;
	INSERT INTO messages SELECT id + 100000000, campagne_id_fk + 10000000, numero_abonne, template_id, storables
	  FROM messages WHERE campagne_id_fk IN (SELECT id FROM campagnes ORDER BY id LIMIT $n1)"
zone "new campaigns appended ($n1)"
zone "full, same data" --full
echo
echo "Trigger cost, COPY of $rows rows into messages (indexes and foreign key in place):"
echo "without tracking ${w_off} ms, temp files $f_off ($b_off bytes); with tracking ${w_on} ms, temp files $f_on ($b_on bytes)"
echo
echo "Summary lines:"
sed 's/^/    /' "$tmp/lines"
