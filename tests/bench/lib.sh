# tests/bench/lib.sh: what the bench sections share (sourced, not run).
#
#   bench_time NAME FILE CMD...   run CMD once, stdout to /dev/null; append
#                                 "NAME wall_s rss_kib busy cpu_s" to FILE
#                                 (wall from the clock, RSS and CPU from GNU
#                                 time, busy: the share of all cores' time
#                                 the whole machine was busy, /proc/stat)
#   bench_zone_servers NAME       a temporary directory ($bench_tmp), the
#                                 bench's PostgreSQL ($pgdir) and a Swift
#                                 started, bucket "bench" made, MOMA_BUCKET
#                                 and MOMA_BIN set for moma-zone; all stopped
#                                 at exit (PostgreSQL kept with
#                                 MOMA_BENCH_KEEP=1)
#   bench_cpu                     jiffies "busy total" of all cores now
#   bench_busy FILE NAME          median busy share of NAME's lines
#   bench_cpus FILE NAME          median CPU seconds (user + system) of
#                                 NAME's command and its waited-for children
#   bench_median FILE NAME        median wall of NAME's lines in FILE
#   bench_maxrss FILE NAME        largest RSS (KiB) of NAME's lines in FILE
#   bench_spread FILE NAME BASE   "min-max (rounds)" of the per-round speed
#                                 ratio BASE's wall / NAME's wall (the k-th
#                                 line of each is round k); BASE "=S": a
#                                 fixed time S instead of a baseline
#   bench_frames SIZE [--two-byte]  path of SIZE moma-gen frames (typographic
#                                 text, or the same in 1-2 byte characters),
#                                 regenerated when moma-gen's source or the registry changes
#   bench_db SIZE                 make database moma_SIZE hold SIZE sample
#                                 messages (zone 3, valid 2026-11-01),
#                                 reloaded when the sample generator, the
#                                 loader or the schema changes
#   bench_row MEASURE SIZE MOMA_S BASE BASE_S ROWS BYTES RSS_KIB MIN MAXRSS TARGET [SPREAD]
#                                 one row of the summary table (run's
#                                 "where moma stands") into $MOMA_BENCH_SUMMARY;
#                                 SPREAD from bench_spread
#   bench_label SIZE              "1 M", "40 M"
#
# Needs $top, $build and $bench_tmp (a scratch directory) set by the caller.

bench_cpu() {
	awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat
}

bench_time() {
	local name=$1 file=$2 s e c0 c1
	shift 2
	c0=$(bench_cpu)
	s=$(date +%s%N)
	/usr/bin/time -f '%M %U %S' -o "$bench_tmp/rss" "$@" >/dev/null
	e=$(date +%s%N)
	c1=$(bench_cpu)
	echo "$name $(( (e - s) / 1000000 )) $(tail -n 1 "$bench_tmp/rss") $c0 $c1" |
		awk '{ printf "%s %.3f %s %.2f %.2f\n", $1, $2 / 1000, $3,
		    ($9 > $7) ? ($8 - $6) / ($9 - $7) : 0, $4 + $5 }' >>"$file"
}

bench_cpus() {
	awk -v v="$2" '$1 == v { print $5 }' "$1" | sort -n |
		awk '{ a[++k] = $1 } END { if (k) printf "%.2f\n", k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }'
}

bench_busy() {
	awk -v v="$2" '$1 == v { print $4 }' "$1" | sort -n |
		awk '{ a[++k] = $1 } END { if (k) printf "%.0f%%\n", 100 * a[int((k + 1) / 2)] }'
}

bench_median() {
	awk -v v="$2" '$1 == v { print $2 }' "$1" | sort -n |
		awk '{ a[++k] = $1 } END { if (k) printf "%.3f\n", k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }'
}

bench_spread() {
	awk -v v="$2" -v b="$3" '
	BEGIN { fixed = substr(b, 1, 1) == "="; if (fixed) bs = substr(b, 2) + 0 }
	$1 == v { m[++nm] = $2 }
	!fixed && $1 == b { s[++ns] = $2 }
	END {
		n = nm
		if (!fixed && ns < n) n = ns
		for (k = 1; k <= n; k++) {
			r = m[k] > 0 ? (fixed ? bs : s[k]) / m[k] : 0
			if (k == 1 || r < lo) lo = r
			if (k == 1 || r > hi) hi = r
		}
		if (n) printf "%.2f-%.2fx (%d)\n", lo, hi, n; else print "-"
	}' "$1"
}

bench_label() {
	awk -v n="$1" 'BEGIN { if (n % 1000000 == 0) printf "%d M\n", n / 1000000; else printf "%.1f M\n", n / 1e6 }'
}

bench_maxrss() {
	awk -v v="$2" '$1 == v && $3 > m { m = $3 } END { print m + 0 }' "$1"
}

# The stamp of a data set: its parameters and the contents of everything
# that decides its bytes.
bench_stamp() {
	local params=$1
	shift
	{ echo "$params"; cat "$@"; } | sha256sum | cut -c1-16
}

bench_frames() {
	local size=$1 two=${2:-} data=${MOMA_BENCH_DATA:-$top/tests/bench/data}
	local f=$data/frames-$size${two:+-two-byte} stamp
	stamp=$(bench_stamp "moma-gen -t frames -n $size -s 1 $two" \
		"$top/scripts/dev/gen/moma-gen.c" "$top/libshared/frame.c" "$top/libshared/frame.h" \
		"$top/libshared/tlv.h")
	mkdir -p "$data"
	if [ ! -s "$f" ] || [ "$(cat "$f.stamp" 2>/dev/null)" != "$stamp" ]; then
		echo "# bench: generating $size frames into $f (generator changed or no data)" >&2
		"$build/gen/moma-gen" -t frames -n "$size" -s 1 $two >"$f.tmp"
		mv "$f.tmp" "$f"
		echo "$stamp" >"$f.stamp"
	fi
	echo "$f"
}

bench_db() {
	local size=$1 db=moma_$1 stamp have
	stamp=$(bench_stamp "moma-sample -n $size -z 3 -d 1 -S 2026-11-01" \
		"$top/scripts/dev/gen/moma-gen.c" "$top/scripts/dev/moma-sample" "$top/scripts/schema.sql")
	if [ "$(psql -XAtq -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
		psql -Xq -d postgres -c "CREATE DATABASE $db"
	fi
	have=$(psql -XAtq -d postgres -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$db'")
	if [ "$have" != "$stamp" ]; then
		echo "# bench: loading $size rows into $db (generator changed or no data)" >&2
		PGDATABASE=$db MOMA_BUILD=$build "$top/scripts/dev/moma-sample" -n "$size" -z 3 -d 1 -S 2026-11-01 >&2
		psql -Xq -d postgres -c "COMMENT ON DATABASE $db IS '$stamp'"
	fi
	# Into shared buffers (the bench's cluster has 4 GB of them); the
	# sections' warm-up runs then find the page cache warm as well.
	PGDATABASE=$db PGOPTIONS="-c client_min_messages=warning" psql -XAtq -c "CREATE EXTENSION IF NOT EXISTS pg_prewarm" \
		-c "SELECT pg_prewarm('messages'), pg_prewarm('campagnes')" >/dev/null
}

# bench_row: speed = BASE_S / MOMA_S (above 1: moma is faster); the row
# meets its target when speed >= MIN (not checked when BASE_S is 0: no
# baseline) and, if MAXRSS (MiB) is given, the peak RSS is at most MAXRSS.
bench_row() {
	[ -n "${MOMA_BENCH_SUMMARY:-}" ] || return 0
	awk -v what="$1" -v size="$2" -v ms="$3" -v base="$4" -v bs="$5" -v rows="$6" \
	    -v bytes="$7" -v rss="$8" -v min="$9" -v maxrss="${10}" -v target="${11}" \
	    -v spread="${12:--}" 'BEGIN {
		speed = ms > 0 ? bs / ms : 0
		met = (bs == 0 || speed >= min) && (maxrss == "" || rss / 1024 <= maxrss + 0)
		b = bs > 0 ? sprintf("%s %.2f", base, bs) : "-"
		sp = bs > 0 ? sprintf("%.2fx", speed) : "-"
		rs = rows > 0 ? sprintf("%.2f M", rows / ms / 1e6) : "-"
		by = bytes > 0 ? sprintf("%.0f", bytes / ms / 1e6) : "-"
		mem = rss > 0 ? sprintf("%.1f", rss / 1024) : "-"
		printf "| %s | %s | %.2f | %s | %s | %s | %s | %s | %s | %s | %s |\n",
		    what, size, ms, b, sp, (bs > 0 ? spread : "-"), rs, by, mem, target, (met ? "yes" : "**no**")
	}' >>"$MOMA_BENCH_SUMMARY"
}

# bench_unpublish BUCKET KEY: delete the object and the KEY.moma beside it,
# so that the next moma-zone run publishes for real instead of finding the
# same carousel there and ending "unchanged".
bench_unpublish() {
	local k
	for k in "$2" "$2.moma"; do
		curl -s -o /dev/null --aws-sigv4 "aws:amz:$AWS_REGION:s3" --netrc-file "$MOMA_S3_NETRC" \
			-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X DELETE "$AWS_ENDPOINT_URL/$1/$k"
	done
}

bench_zone_servers() {
	bench_tmp=$(mktemp -d "/tmp/moma-bench-$1.XXXXXX")
	s3dir=$bench_tmp/s3
	trap bench_zone_cleanup EXIT
	export MOMA_PG_SHARED_BUFFERS=${MOMA_PG_SHARED_BUFFERS:-4GB}
	eval "$("$top/scripts/dev/moma-pg" start "$pgdir")"
	eval "$("$top/scripts/dev/moma-s3-server" start "$s3dir")"
	curl -s -o /dev/null --aws-sigv4 "aws:amz:$AWS_REGION:s3" --netrc-file "$MOMA_S3_NETRC" \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X PUT "$AWS_ENDPOINT_URL/bench"
	export MOMA_BUCKET=bench MOMA_BIN=$build/bin
}
bench_zone_cleanup() {
	"$top/scripts/dev/moma-s3-server" stop "$s3dir" >/dev/null 2>&1 || true
	[ "${MOMA_BENCH_KEEP:-0}" = 1 ] || "$top/scripts/dev/moma-pg" stop "$pgdir" >/dev/null 2>&1 || true
	rm -rf "$bench_tmp"
}
