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
# and, right after the 1% case, what moving the published carousel's bytes
# costs on this server (the reused bytes go through the client today):
#
#   put        moma-put alone uploading the local copy (MOMA_CACHE_DIR) of
#              the published carousel to a scratch key: the client's floor
#   copy       the same bytes copied inside the store: UploadPartCopy of
#              the published object in ranges of MOMA_BENCH_COPY_PART
#              (default 512 MiB), MOMA_BENCH_COPY_JOBS (4) at once, into a
#              scratch multipart upload, completed and checked for length
#
# Prints one Markdown table; each moma-zone case is run after a full
# publication of the same data, its summary line kept under the table.
# CPU: user + system seconds of each stage (GNU time, through wrappers in
# MOMA_BIN; moma-put's small calls, --head, --get and the sidecars, are
# counted with the main one) and of the two servers, Swift (its processes)
# and PostgreSQL (the postmaster with the backends it reaped), from /proc.
# Bytes through the client: what moma-put read and sent (its --stats-file
# bytes_in).  Between cases, the segments of overwritten carousels that
# Swift keeps are deleted through its own API (no upload is open then).
# Disk: the trigger cost step (a COPY export of all rows) runs only up to
# 10 M rows unless MOMA_BENCH_TRIGGER=1 (=0 skips it); each step checks
# that the file system of /tmp keeps MOMA_BENCH_MIN_FREE_GB (default 15)
# free, and stops the bench otherwise.
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
	[ -n "${mon_pid:-}" ] && kill "$mon_pid" 2>/dev/null
	"$top/scripts/dev/moma-s3-server" stop "$tmp/s3" >/dev/null 2>&1 || true
	"$top/scripts/dev/moma-pg" stop "$tmp/pg" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
min_free_gb=${MOMA_BENCH_MIN_FREE_GB:-15}
free_gb() { df -P --block-size=1G /tmp | awk 'NR == 2 { print $4 }'; }
disk_check() {	# disk_check WHERE: stop the bench below min_free_gb
	local f
	f=$(free_gb)
	echo "$(date -u +%H:%M:%S) $1: ${f} GB free, load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$tmp/disk.log"
	[ "$f" -ge "$min_free_gb" ] && return 0
	echo "incremental.sh: $1: only $f GB free on /tmp (MOMA_BENCH_MIN_FREE_GB=$min_free_gb); stopping" >&2
	cat "$tmp/disk.log" >&2
	exit 75
}
# The load and the free space every 30 s, for the report.
( while :; do disk_check monitor >/dev/null 2>&1 || true; sleep 30; done ) & mon_pid=$!
eval "$("$top/scripts/dev/moma-pg" start "$tmp/pg")"
export PGHOST PGPORT PGDATABASE PGUSER
eval "$("$top/scripts/dev/moma-s3-server" start "$tmp/s3")"
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
curl -sS -o /dev/null --aws-sigv4 "aws:amz:$AWS_REGION:s3" --netrc-file "$MOMA_S3_NETRC" \
	-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X PUT "$AWS_ENDPOINT_URL/bench"
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
day=2026-11-20

disk_check start
MOMA_BUILD=$build "$top/scripts/dev/moma-sample" -n "$rows" -c "$camps" -z 3 2>/dev/null
disk_check loaded
sql -c "UPDATE campagnes SET zone_diffusion = 3, valid_start = '2026-11-01', valid_end = '2026-12-31'"
sql -c "VACUUM ANALYZE campagnes"

# ---- the trigger cost: the same COPY without and with tracking --------------------
trigger=${MOMA_BENCH_TRIGGER:-$([ "$rows" -le 10000000 ] && echo 1 || echo 0)}
if [ "$trigger" = 1 ]; then
sql -c "COPY messages TO '$tmp/messages.copy'" 2>/dev/null ||
	sql -c "COPY messages TO STDOUT" > "$tmp/messages.copy"
disk_check exported
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
rm -f "$tmp/messages.copy"
else
sql -f "$top/scripts/moma-tracking.sql" >/dev/null 2>&1
fi
sql -c "VACUUM ANALYZE messages"
disk_check tracking

# ---- CPU and bytes -------------------------------------------------------------------
# Each moma tool through a wrapper: GNU time's wall, user, system and peak
# RSS, and moma-put's bytes_in from its --stats-file, one line a call.
mkdir -p "$tmp/bin"
for t in moma-fetch moma-encode moma-splice moma-put; do
	cat > "$tmp/bin/$t" <<EOT
#!/usr/bin/env bash
sf=
prev=
for a in "\$@"; do [ "\$prev" = --stats-file ] && sf=\$a; prev=\$a; done
/usr/bin/time -a -o "$tmp/cpu.log" -f "$t %e %U %S %M" "$build/bin/$t" "\$@"
rc=\$?
[ -n "\$sf" ] && sed -n "s/^bytes_in=/$t bytes_in /p" "\$sf" >> "$tmp/cpu.log" 2>/dev/null
exit \$rc
EOT
	chmod +x "$tmp/bin/$t"
done
tck=$(getconf CLK_TCK)
# proc_ticks PID...: user + system ticks of the processes and of the
# children they reaped (a backend's, once the postmaster has reaped it).
proc_ticks() {
	local p t=0 f
	for p in "$@"; do
		# Fields 14-17 of stat(5), after the command's ") ": 12-15.
		read -r -a f < <(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
		[ ${#f[@]} -gt 15 ] || continue
		t=$(( t + f[11] + f[12] + f[13] + f[14] ))
	done
	echo "$t"
}
tree_pids() {	# tree_pids PID...: them and their children
	local p
	for p in "$@"; do echo "$p"; pgrep -P "$p" || true; done
}
swift_ticks() {
	local ps servers
	mapfile -t servers < <(cat "$tmp"/s3/run/*.pid 2>/dev/null)
	mapfile -t ps < <(tree_pids "${servers[@]}")
	proc_ticks "${ps[@]}"
}
pg_ticks() {
	local ps
	mapfile -t ps < <(tree_pids "$(head -n 1 "$tmp/pg/data/postmaster.pid")")
	proc_ticks "${ps[@]}"
}
secs_of() { awk -v t="$1" -v k="$tck" 'BEGIN { printf "%.1f", t / k }'; }
# cpu_of TOOL: user + system seconds of its calls in cpu.log; put_bytes: what
# moma-put read (printf %.0f: mawk prints sums above 2^31 as 7.41186e+09)
cpu_of() { awk -v t="$1" '$1 == t && NF == 5 { s += $3 + $4; n++ } END { if (n) printf "%.1f", s; else printf "-" }' "$tmp/cpu.log"; }
put_bytes() { awk '$1 == "moma-put" && $2 == "bytes_in" { s += $3 } END { printf "%.0f\n", s }' "$tmp/cpu.log"; }

# Swift keeps the segments of a multipart object it overwrote (research
# notes): they are deleted, all those that no manifest of bucket bench
# names, through Swift's own client library on this server's rings
# (InternalClient: a proxy pipeline without auth in this process; the
# server's tempauth cannot hand out tokens without memcached).  Only
# between runs: no upload is open then.
swift_py=$(sed -n '1s/^#! *//p' "$(command -v swift-proxy-server)")
cat > "$tmp/internal-client.conf" <<EOT
[DEFAULT]
swift_dir = $tmp/s3/etc
[pipeline:main]
pipeline = catch_errors proxy-logging cache proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:cache]
use = egg:swift#memcache
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:catch_errors]
use = egg:swift#catch_errors
EOT
prune_segments() {	# prints the number of segments deleted
	$swift_py - "$tmp/internal-client.conf" "AUTH_$AWS_ACCESS_KEY_ID" <<'PY'
import json, sys
from swift.common.internal_client import InternalClient
conf, acct = sys.argv[1], sys.argv[2].split(':')[0]
c = InternalClient(conf, 'moma-bench', 3)
used = set()
for o in c.iter_objects(acct, 'bench'):
    st, h, body = c.get_object(acct, 'bench', o['name'], {})
    data = b''.join(body)
    if h.get('X-Static-Large-Object', '').lower() == 'true':
        used |= {s['name'].lstrip('/').split('/', 1)[1] for s in json.loads(data)}
n = 0
for s in [o['name'] for o in c.iter_objects(acct, 'bench+segments')]:
    if s not in used:
        c.delete_object(acct, 'bench+segments', s)
        n += 1
print(n)
PY
}
swift_bytes() { du -sb "$tmp/s3/srv" | cut -f1; }

# s3 METHOD PATH [CURL ARGS]: a SigV4-signed request to the local server.
s3() {
	local m=$1 p=$2
	shift 2
	curl -sS --fail-with-body --aws-sigv4 "aws:amz:$AWS_REGION:s3" --netrc-file "$MOMA_S3_NETRC" \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X "$m" "$@" "$AWS_ENDPOINT_URL$p"
}

# ---- moma-zone ----------------------------------------------------------------------
printf '3 Bench\n' > "$tmp/zones"
export MOMA_ZONES=$tmp/zones MOMA_BIN=$tmp/bin MOMA_BUCKET=bench MOMA_KEY="{zone}/carousel.bin" \
	MOMA_CACHE_DIR=$tmp/cache MOMA_MAX_DROP=100
zone() {	# zone CASE [ARGS]: one run; a table row
	local name=$1 line t0 ms s0 p0 s1 p1 pruned
	shift
	disk_check "before $name"
	: > "$tmp/cpu.log"
	s0=$(swift_ticks) p0=$(pg_ticks)
	t0=$(date +%s%N)
	line=$("$top/scripts/moma-zone" "$@" 3 "$day" 2>"$tmp/zone.err") || { cat "$tmp/zone.err" >&2; exit 1; }
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	s1=$(swift_ticks) p1=$(pg_ticks)
	echo "$name|$line" >> "$tmp/lines"
	echo "$name|load $(cut -d' ' -f1-3 /proc/loadavg)|$(sort -k1,1 "$tmp/cpu.log" | awk 'NF == 5 { printf "%s %s/%s/%s/%s; ", $1, $2, $3, $4, $5 }')" >> "$tmp/cpu.lines"
	f() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$line"; }
	echo "$ms $(f rows) $(f mode)|$name" >> "$tmp/walls"
	printf '| %s | %s | %s | %s | %s | %s | %s | %s.%03d | %s | %s | %s | %s | %s | %s |\n' "$name" "$(f status)" "$(f mode)" "$(f rows)" \
		"$(f reused)" "$(f bytes)" "$(put_bytes)" $((ms / 1000)) $((ms % 1000)) \
		"$(cpu_of moma-fetch)" "$(cpu_of moma-encode)" "$(cpu_of moma-splice)" "$(cpu_of moma-put)" \
		"$(secs_of $((s1 - s0)))" "$(secs_of $((p1 - p0)))"
	pruned=$(prune_segments)
	echo "$name|after: Swift holds $(swift_bytes) bytes ($pruned stale segments deleted), MOMA_CACHE_DIR $(du -sb "$tmp/cache" | cut -f1) bytes" >> "$tmp/disk.lines"
}

# ---- what moving the bytes costs: through the client, and inside the store -----------
# move_put: moma-put alone, the local copy of the published carousel (as
# moma-splice reads it in an incremental run) to a scratch key.
move_put() {
	local cache t0 ms s0 s1 key=scratch/put.bin
	cache=$(ls "$tmp"/cache/*.bin)
	"$build/bin/moma-put" --head s3://bench/3/carousel.bin | sed -n 's/^etag //p' > "$tmp/src.etag"
	disk_check "before move_put"
	: > "$tmp/cpu.log"
	s0=$(swift_ticks)
	t0=$(date +%s%N)
	"$tmp/bin/moma-put" --stats-file "$tmp/move.stats" "s3://bench/$key" < "$cache"
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	s1=$(swift_ticks)
	disk_check "after move_put"
	s3 DELETE "/bench/$key" >/dev/null
	echo "$ms put|moma-put alone" >> "$tmp/walls"
	printf '| moving the bytes: moma-put alone, the local copy to a scratch key | - | - | 0 | - | %s | %s | %s.%03d | - | - | - | %s | %s | - |\n' \
		"$(stat -c %s "$cache")" "$(put_bytes)" $((ms / 1000)) $((ms % 1000)) "$(cpu_of moma-put)" "$(secs_of $((s1 - s0)))"
	echo "moma-put alone: $(sed -n 's/^maxrss_kib=/maxrss_kib /p; s/^blocked_in=/blocked_in /p; s/^blocked_out=/blocked_out /p' "$tmp/move.stats" | paste -sd' '); GNU time: $(awk 'NF == 5 { print "wall " $2 " user " $3 " sys " $4 " maxrss_kib " $5 }' "$tmp/cpu.log")" >> "$tmp/move.lines"
}
# move_copy: UploadPartCopy of the published carousel, in ranges, into a
# scratch multipart upload on the same server; nothing goes through the
# client but the requests.  By boto3 (python3 with boto3 wanted): curl
# 7.88's --aws-sigv4 signs x-amz-copy-source-range before
# x-amz-copy-source, and Swift refuses the signature.  Its wall time is
# CreateMultipartUpload to CompleteMultipartUpload, without python's start.
cat > "$tmp/upc.py" <<'PY'
import sys, time, boto3
from botocore.config import Config
from concurrent.futures import ThreadPoolExecutor
bucket, src, dst, psize, jobs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
kw = dict(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}, max_pool_connections=jobs)
try:
    cfg = Config(request_checksum_calculation='when_required', response_checksum_validation='when_required', **kw)
except TypeError:
    cfg = Config(**kw)
s3 = boto3.client('s3', config=cfg)
size = s3.head_object(Bucket=bucket, Key=src)['ContentLength']
t0 = time.monotonic()
up = s3.create_multipart_upload(Bucket=bucket, Key=dst)['UploadId']
ranges = [(i + 1, a, min(a + psize, size) - 1) for i, a in enumerate(range(0, size, psize))]
def part(r):
    n, a, b = r
    res = s3.upload_part_copy(Bucket=bucket, Key=dst, UploadId=up, PartNumber=n,
                              CopySource={'Bucket': bucket, 'Key': src}, CopySourceRange='bytes=%d-%d' % (a, b))
    return {'PartNumber': n, 'ETag': res['CopyPartResult']['ETag']}
try:
    with ThreadPoolExecutor(jobs) as ex:
        parts = list(ex.map(part, ranges))
    etag = s3.complete_multipart_upload(Bucket=bucket, Key=dst, UploadId=up, MultipartUpload={'Parts': parts})['ETag']
except BaseException:
    s3.abort_multipart_upload(Bucket=bucket, Key=dst, UploadId=up)
    raise
ms = (time.monotonic() - t0) * 1000
# Swift truncates a range past the end without a word: the length is checked.
got = s3.head_object(Bucket=bucket, Key=dst)['ContentLength']
if got != size:
    sys.exit('UploadPartCopy object has %d bytes, not %d' % (got, size))
print(len(ranges), size, int(ms), etag)
PY
move_copy() {
	local psize=$(( ${MOMA_BENCH_COPY_PART:-512} * 1048576 )) jobs=${MOMA_BENCH_COPY_JOBS:-4}
	local n size ms etag s0 s1 src
	src=$(head -n 1 "$tmp/src.etag")
	if ! python3 -c 'import boto3' 2>/dev/null; then
		echo "| moving the bytes: UploadPartCopy inside Swift: not measured (python3 has no boto3: scripts/dev/moma-deps bench) | - | - | - | - | - | - | - | - | - | - | - | - | - |"
		return 0
	fi
	disk_check "before move_copy"
	s0=$(swift_ticks)
	/usr/bin/time -o "$tmp/upc.time" -f "%e %U %S %M" python3 "$tmp/upc.py" bench 3/carousel.bin scratch/copy.bin \
		"$psize" "$jobs" > "$tmp/upc.out"
	s1=$(swift_ticks)
	read -r n size ms etag < "$tmp/upc.out"
	echo "$ms copy|UploadPartCopy" >> "$tmp/walls"
	disk_check "after move_copy"
	s3 DELETE /bench/scratch/copy.bin >/dev/null
	printf '| moving the bytes: UploadPartCopy inside Swift, %d parts of %d MiB, %d at once | - | - | 0 | - | %s | 0 | %s.%03d | - | - | - | - | %s | - |\n' \
		"$n" $((psize / 1048576)) "$jobs" "$size" $((ms / 1000)) $((ms % 1000)) "$(secs_of $((s1 - s0)))"
	echo "UploadPartCopy: $n parts, length checked, ETag $etag (the source's: $src); python3 with boto3: $(awk '{ print "wall " $1 " user " $2 " sys " $3 " maxrss_kib " $4 }' "$tmp/upc.time")" >> "$tmp/move.lines"
}

: > "$tmp/lines"
: > "$tmp/move.lines"
: > "$tmp/walls"
echo "| case | status | mode | rows read | reused campaigns/bytes | carousel bytes | bytes through the client | wall s | CPU s fetch | CPU s encode | CPU s splice | CPU s put | CPU s Swift | CPU s PostgreSQL |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
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
move_put
move_copy
zone "full, same data" --full
sql -c "INSERT INTO campagnes SELECT id + 10000000, 3, '2026-11-01', '2026-12-31', genre, ack_count, ack_delay, nom
	  FROM campagnes ORDER BY id LIMIT $n1;
	INSERT INTO messages SELECT id + 100000000, campagne_id_fk + 10000000, numero_abonne, template_id, storables
	  FROM messages WHERE campagne_id_fk IN (SELECT id FROM campagnes ORDER BY id LIMIT $n1)"
zone "new campaigns appended ($n1)"
zone "full, same data" --full
echo
if [ "$trigger" = 1 ]; then
	echo "Trigger cost, COPY of $rows rows into messages (indexes and foreign key in place):"
	echo "without tracking ${w_off} ms, temp files $f_off ($b_off bytes); with tracking ${w_on} ms, temp files $f_on ($b_on bytes)"
else
	echo "Trigger cost: not measured at $rows rows (MOMA_BENCH_TRIGGER=1 to; it needs a COPY export of every row and the transition table's temporary files on disk)."
fi
echo
# The 1% case against the full runs around it, and with its upload of the
# reused bytes through the client replaced by a copy inside the store.
awk -v rows="$rows" '
	$3 ~ /^full:--full/ { full[++nf] = $1 / 1000 }
	/[|]1% of/ { w1 = $1 / 1000; r1 = $2 }
	$2 == "put|moma-put" { put = $1 / 1000 }
	$2 == "copy|UploadPartCopy" { copy = $1 / 1000 }
	END {
		mn = mx = full[1]
		for (i = 2; i <= nf; i++) { if (full[i] < mn) mn = full[i]; if (full[i] > mx) mx = full[i] }
		printf "1%% of campaigns changed: %d of %d rows read (%.2f%%); %.2f s, %.2f-%.2fx of the %d --full runs (%.2f-%.2f s); ", r1, rows, 100 * r1 / rows, w1, w1 / mx, w1 / mn, nf, mn, mx
		printf "moma-put alone moving the carousel through the client %.2f s, UploadPartCopy inside the store %.2f s; ", put, copy
		printf "1%% case less the first plus the second: %.2f s, %.2f-%.2fx\n", w1 - put + copy, (w1 - put + copy) / mx, (w1 - put + copy) / mn
	}' "$tmp/walls"
echo
echo "Summary lines:"
sed 's/^/    /' "$tmp/lines"
echo
echo "Each tool's calls (wall/user/system s/peak RSS KiB, GNU time) and the load average after each case:"
sed 's/^/    /' "$tmp/cpu.lines"
echo
echo "Moving the bytes:"
sed 's/^/    /' "$tmp/move.lines"
echo
echo "Disk (Swift's data and the local copy after each case; free space and load through the run):"
sed 's/^/    /' "$tmp/disk.lines" "$tmp/disk.log"
