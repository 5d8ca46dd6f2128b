#!/usr/bin/env bats
# The pipeline end to end: scripts/moma-zone and scripts/moma-all against a
# real PostgreSQL (tests/lib/pg.bash) and a real S3 server (OpenStack Swift,
# tests/lib/s3.bash), the carousel read back with an independent client
# (curl --aws-sigv4) and compared field by field with the database; then
# the faults: in each case either the exact carousel is published or
# nothing changes at the key, and no multipart upload is left open.

load helpers
load lib/pg
load lib/s3

DAY=2026-11-15
ZONE_CMD=$TOP/scripts/moma-zone
ALL_CMD=$TOP/scripts/moma-all

setup_file() {
	pg_start
	MOMA_BUILD=$MOMA_BUILD "$TOP/scripts/moma-sample" -n 20000 -c 300 -s 3 2>/dev/null
	s3_start
	s3_mb carousels
}

teardown_file() {
	s3_stop || true
	pg_stop
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	export MOMA_BUCKET=carousels MOMA_KEY="{zone}/{date}/carousel.bin"
	unset MOMA_FETCH_OPTS MOMA_ENCODE_OPTS MOMA_PUT_OPTS MOMA_ZONES
	# The tools by path, through a directory tests can put wrappers in.
	mkdir -p bin
	for t in moma-fetch moma-encode moma-put moma-dump; do ln -sf "$BIN/$t" bin/$t; done
	export MOMA_BIN=$PWD/bin
}

# wrap TOOL SCRIPT: replace a stage by a bash script; $REAL is the tool.
wrap() {
	rm -f "bin/$1"
	{ echo '#!/usr/bin/env bash'; echo 'set -o pipefail'; echo "REAL=$BIN/$1"; echo "$2"; } > "bin/$1"
	chmod +x "bin/$1"
}

# The zone's valid messages from the database, one TSV line each, in the
# section's terms; and the same from a carousel through moma-dump.
norm='to_entries | sort_by(.key) | from_entries | tojson'
db_tsv() {
	pg_sql -c "SELECT c.id, m.numero_abonne, m.template_id, c.genre, c.ack_count, c.ack_delay,
	    extract(epoch FROM c.valid_start)::bigint, extract(epoch FROM c.valid_end)::bigint,
	    m.storables::text
	  FROM messages m JOIN campagnes c ON c.id = m.campagne_id_fk
	 WHERE c.zone_diffusion = $1 AND c.valid_start < timestamptz '$2 00:00:00+00' + interval '1 day'
	   AND c.valid_end >= timestamptz '$2 00:00:00+00'" |
	    jq -R -r "split(\"\\t\") | .[8] |= (fromjson | $norm) | @tsv" | sort
}
carousel_tsv() {
	"$DUMP" "$1" | jq -r "select(.storables) | [.message_id, .target_filter, .template_id,
	    .genre, .ack_count, .ack_delay, (.valid_start | fromdateiso8601),
	    (.valid_end | fromdateiso8601), (.storables | $norm)] | @tsv" | sort
}

# publish ZONE: a good run, so that faults have a previous carousel to keep.
publish() {
	run_split "$ZONE_CMD" "$1" "$DAY"
	assert_status 0
	s3_get carousels "$1/$DAY/carousel.bin" before.bin
	etag_before=$(s3_etag carousels "$1/$DAY/carousel.bin")
}

# unchanged ZONE: the previous carousel is still there, byte for byte, and
# no multipart upload is open.
unchanged() {
	s3_get carousels "$1/$DAY/carousel.bin" after.bin
	cmp before.bin after.bin
	[ "$(s3_etag carousels "$1/$DAY/carousel.bin")" = "$etag_before" ]
	[ "$(s3_uploads carousels)" -eq 0 ]
}

@test "moma-zone: the carousel in S3 equals the zone's valid messages, field by field" {
	run_split "$ZONE_CMD" 3 "$DAY"
	assert_status 0
	want=$(db_tsv 3 "$DAY")
	n=$(wc -l <<<"$want")
	[ "$n" -gt 500 ]
	[[ "$output" == "zone=3 name=Nouvelle-Calédonie date=$DAY status=ok rows=$n sections=$n bytes="*" key=s3://carousels/3/$DAY/carousel.bin" ]]
	s3_get carousels "3/$DAY/carousel.bin" got.bin
	[[ "$output" == *" bytes=$(stat -c %s got.bin) "* ]]
	# per-stage peak RSS / blocked in / blocked out are all there
	[[ "$output" =~ fetch=[0-9]+/[0-9.]+/[0-9.]+\ encode=[0-9]+/[0-9.]+/[0-9.]+\ put=[0-9]+/[0-9.]+/[0-9.]+ ]]
	diff -u <(echo "$want") <(carousel_tsv got.bin)
	"$SECCHECK" < got.bin > /dev/null
	[ "$(s3_uploads carousels)" -eq 0 ]
}

@test "moma-zone: zone by name, the key pattern, an empty zone, bad usage" {
	MOMA_KEY="by-name/{name}-{date}.bin" run_split "$ZONE_CMD" "réunion" "$DAY"
	assert_status 0
	[[ "$output" == "zone=4 name=Réunion "*"key=s3://carousels/by-name/Réunion-$DAY.bin" ]]
	s3_get carousels "by-name/R%C3%A9union-$DAY.bin" got.bin
	diff -u <(db_tsv 4 "$DAY") <(carousel_tsv got.bin)
	# a zone with nothing valid that day: an empty carousel, published
	run_split "$ZONE_CMD" 9 "$DAY"
	assert_status 0
	[[ "$output" == *"status=ok rows=0 sections=0 bytes=0 "* ]]
	s3_get carousels "9/$DAY/carousel.bin" empty.bin
	[ ! -s empty.bin ]
	run_split "$ZONE_CMD" atlantide
	assert_status $EX_USAGE
	run_split "$ZONE_CMD" 3 2026-13-01
	assert_status $EX_USAGE
	MOMA_BUCKET= run_split "$ZONE_CMD" 3
	assert_status $EX_USAGE
	[[ "$stderr" == *"MOMA_BUCKET is not set"* ]]
}

@test "moma-all: the four zones in one run, a table and a job log" {
	run_split "$ALL_CMD" -j 2 -l "$PWD/joblog" "$DAY"
	assert_status 0
	for z in 1 2 3 4; do
		grep -Eq "^$z +ok +$(db_tsv $z "$DAY" | wc -l) " <<<"$output"
		s3_get carousels "$z/$DAY/carousel.bin" z$z.bin
		diff -u <(db_tsv $z "$DAY") <(carousel_tsv z$z.bin)
	done
	[ "$(tail -n +2 joblog | awk -F'\t' '$7 == 0' | wc -l)" -eq 4 ]
	[ "$(s3_uploads carousels)" -eq 0 ]
}

@test "fault: moma-fetch killed mid-stream: nothing published, the old carousel stays" {
	publish 2
	wrap moma-fetch '"$REAL" "$@" | head -c 30000; kill -KILL $$'
	run_split "$ZONE_CMD" 2 "$DAY"
	assert_status 137
	[[ "$stderr" == *"moma-encode: "*"truncated stream"* ]]
	[[ "$stderr" == *"moma-zone: zone 2 (Caraïbes) $DAY: moma-fetch failed (exit 137); aborting the upload, nothing published"* ]]
	[[ "$output" == *"status=failed:moma-fetch "* ]]
	unchanged 2
}

@test "fault: a corrupt frame: moma-encode names it, nothing published" {
	publish 1
	wrap moma-fetch '"$REAL" "$@" | { head -c 20000; head -c 1 > /dev/null; printf "\377"; cat; }'
	run_split "$ZONE_CMD" 1 "$DAY"
	assert_status $EX_DATAERR
	[[ "$stderr" == *"moma-encode: "*"frame "*"(message "* ]] || [[ "$stderr" == *"moma-encode: byte "* ]]
	[[ "$stderr" == *"moma-encode failed (exit 65)"* ]]
	unchanged 1
}

@test "fault: PostgreSQL stopped mid-stream: moma-fetch fails, nothing published" {
	publish 3
	export MOMA_FETCH_OPTS="--batch 50"
	wrap moma-fetch "\"\$REAL\" \"\$@\" | { head -c 30000; (cd / && \"$TOP/scripts/moma-pg\" stop \"$PG_DIR\" >/dev/null); cat; }"
	run_split "$ZONE_CMD" 3 "$DAY"
	status_was=$status
	(cd / && "$TOP/scripts/moma-pg" start "$PG_DIR" > /dev/null)
	[ "$status_was" -eq $EX_TEMPFAIL ]
	[[ "$stderr" == *"moma-fetch failed (exit 75)"* ]]
	unchanged 3
}

@test "fault: SIGTERM to the run stops every stage, nothing published" {
	publish 4
	wrap moma-encode "\"\$REAL\" \"\$@\" | { head -c 100000; touch \"$PWD/started\"; exec sleep 60; }"
	setsid "$ZONE_CMD" 4 "$DAY" > out 2> err &
	pid=$!
	wait_for 30 test -e started
	kill -TERM $pid
	rc=0
	wait $pid || rc=$?
	kill -KILL -- -$pid 2>/dev/null || true   # the wrapper's sleep
	[ "$rc" -ne 0 ]
	grep -q "moma-zone: zone 4: terminated, stopping the pipeline" err
	grep -q "nothing published" err
	unchanged 4
}

@test "re-running a zone replaces its carousel atomically: readers see old or new" {
	publish 3
	pg_sql -c "UPDATE messages SET template_id = template_id + 1000
	            FROM campagnes c WHERE c.id = campagne_id_fk AND c.zone_diffusion = 3"
	"$ZONE_CMD" 3 "$DAY" > out 2> err &
	pid=$!
	reads=0 mixed=0
	while kill -0 $pid 2>/dev/null; do
		s3_get carousels "3/$DAY/carousel.bin" read.bin || continue
		reads=$((reads + 1))
		cmp -s read.bin before.bin || { cp read.bin new-seen.bin; }
	done
	wait $pid
	s3_get carousels "3/$DAY/carousel.bin" after.bin
	! cmp -s after.bin before.bin
	diff -u <(db_tsv 3 "$DAY") <(carousel_tsv after.bin)
	# every read during the run was the old carousel or the new one, whole
	[ ! -e new-seen.bin ] || cmp new-seen.bin after.bin
	echo "# $reads reads during the run" >&3
	[ "$reads" -ge 1 ]
	pg_sql -c "UPDATE messages SET template_id = template_id - 1000
	            FROM campagnes c WHERE c.id = campagne_id_fk AND c.zone_diffusion = 3"
}

@test "fault: moma-put --complete fails: the run fails and the upload is aborted" {
	publish 2
	wrap moma-put 'for a in "$@"; do [ "$a" = --complete ] && { echo "moma-put: injected complete failure" >&2; exit 75; }; done
exec "$REAL" "$@"'
	run_split "$ZONE_CMD" 2 "$DAY"
	assert_status $EX_TEMPFAIL
	[[ "$output" == *"status=failed:moma-put-complete "* ]]
	[[ "$stderr" == *"completing the upload failed (exit 75); aborting it"* ]]
	unchanged 2
}

@test "moma-all: a failing zone is reported in the table, the others are published" {
	wrap moma-fetch 'for a in "$@"; do [ "$a" = 2 ] && { echo "moma-fetch: injected failure" >&2; exit 69; }; done
exec "$REAL" "$@"'
	run_split "$ALL_CMD" -j 2 -r 0 -l "$PWD/joblog" "$DAY"
	assert_status 1
	grep -Eq '^2 +failed:moma-fetch ' <<<"$output"
	for z in 1 3 4; do grep -Eq "^$z +ok " <<<"$output"; done
	[[ "$stderr" == *"1 zone(s) failed after 0 retries"* ]]
	[ "$(s3_uploads carousels)" -eq 0 ]
	run_split "$ALL_CMD" 2026-02-30
	assert_status $EX_USAGE
}

# Last: it restarts the S3 server on a new port, which later tests would
# not see (a test's exports end with it).
@test "fault: the S3 server killed mid-run: moma-put fails, nothing half-published" {
	publish 1
	export MOMA_PUT_OPTS="-r 1"
	wrap moma-encode "\"\$REAL\" \"\$@\" | { head -c 100000; \"$TOP/scripts/moma-s3-server\" stop \"$MOMA_S3_DIR\" >/dev/null; cat; }"
	run_split "$ZONE_CMD" 1 "$DAY"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"moma-put failed (exit "* ]]
	[[ "$output" == *"status=failed:moma-put "* ]]
	s3_start "$MOMA_S3_DIR"
	unchanged 1
}
