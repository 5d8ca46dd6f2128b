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
load lib/carousel

DAY=2026-11-15
ZONE_CMD=$TOP/scripts/moma-zone
ALL_CMD=$TOP/scripts/moma-all

setup_file() {
	pg_start
	MOMA_BUILD=$MOMA_BUILD "$TOP/scripts/dev/moma-sample" -n 20000 -c 300 -s 3 2>/dev/null
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
	for t in moma-fetch moma-encode moma-splice moma-put moma-dump; do ln -sf "$BIN/$t" bin/$t; done
	export MOMA_BIN=$PWD/bin
}

# wrap TOOL SCRIPT: replace a stage by a bash script; $REAL is the tool.
wrap() {
	rm -f "bin/$1"
	{ echo '#!/usr/bin/env bash'; echo 'set -o pipefail'; echo "REAL=$BIN/$1"; echo "$2"; } > "bin/$1"
	chmod +x "bin/$1"
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
	run_split "$ZONE_CMD" atlantide
	assert_status $EX_USAGE
	# a network_id the zones file does not list is refused like a name
	run_split "$ZONE_CMD" 99 "$DAY"
	assert_status $EX_USAGE
	[[ "$stderr" == *"zone '99' is not in "* ]]
	[ -z "$output" ]
	run_split "$ZONE_CMD" --version
	assert_status 0
	[[ "$output" == "moma-zone "[0-9]* ]]
	run_split "$ZONE_CMD" --help
	assert_status 0
	[[ "$output" == *"MOMA_MAX_DROP"* && "$output" == *"--force"* ]]
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
		grep -Eq "^$z +(ok|unchanged) +$(db_tsv $z "$DAY" | wc -l) " <<<"$output"
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
	wrap moma-fetch "\"\$REAL\" \"\$@\" | { head -c 30000; (cd / && \"$TOP/scripts/dev/moma-pg\" stop \"$PG_DIR\" >/dev/null); cat; }"
	run_split "$ZONE_CMD" 3 "$DAY"
	status_was=$status
	(cd / && "$TOP/scripts/dev/moma-pg" start "$PG_DIR" > /dev/null)
	[ "$status_was" -eq $EX_TEMPFAIL ] || { echo "status $status_was; $output; $stderr" >&2; false; }
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

@test "fault: moma-put --complete fails: the run fails, the upload is left for the next run" {
	publish 2
	pg_sql -c "UPDATE messages SET template_id = template_id + 1000
	            FROM campagnes c WHERE c.id = campagne_id_fk AND c.zone_diffusion = 2"
	wrap moma-put 'for a in "$@"; do [ "$a" = --complete ] && { echo "moma-put: injected complete failure" >&2; exit 75; }; done
exec "$REAL" "$@"'
	run_split "$ZONE_CMD" 2 "$DAY"
	assert_status $EX_TEMPFAIL
	[[ "$output" == *"status=failed:moma-put-complete "* ]]
	[[ "$stderr" == *"completing the upload failed (exit 75); the object is the old one or the new one"* ]]
	# Complete may have been sent: the upload is not aborted, the old
	# carousel stays; the next run clears the leftover once it is stale.
	s3_get carousels "2/$DAY/carousel.bin" after.bin
	cmp before.bin after.bin
	[ "$(s3_uploads carousels)" -eq 1 ]
	rm bin/moma-put; ln -s "$BIN/moma-put" bin/moma-put
	# S3 gives Initiated to the second, Swift rounds it up: let the
	# leftover be a full second older than "now" before MOMA_STALE=0s.
	sleep 2
	MOMA_STALE=0s run_split "$ZONE_CMD" 2 "$DAY"
	assert_status 0
	[[ "$output" == *"status=ok "* ]]
	[ "$(s3_uploads carousels)" -eq 0 ] || { "$BIN/moma-put" --list-uploads s3://carousels >&2; echo "$stderr; $(date -u)" >&2; false; }
	pg_sql -c "UPDATE messages SET template_id = template_id - 1000
	            FROM campagnes c WHERE c.id = campagne_id_fk AND c.zone_diffusion = 2"
}

@test "moma-all: a failing zone is reported in the table, the others are published" {
	wrap moma-fetch 'for a in "$@"; do [ "$a" = 2 ] && { echo "moma-fetch: injected failure" >&2; exit 69; }; done
exec "$REAL" "$@"'
	run_split "$ALL_CMD" -j 2 -r 0 -l "$PWD/joblog" "$DAY"
	assert_status 1
	grep -Eq '^2 +failed:moma-fetch ' <<<"$output"
	for z in 1 3 4; do grep -Eq "^$z +(ok|unchanged) " <<<"$output" || { echo "$output $stderr" >&2; false; }; done
	[[ "$stderr" == *"1 zone(s) not published after 0 retries"* ]]
	[ "$(s3_uploads carousels)" -eq 0 ]
	run_split "$ALL_CMD" 2026-02-30
	assert_status $EX_USAGE
}

# ---- the publication guard, metadata, unchanged, orphans (issue 13) -----------

uploads_are() { [ "$(s3_uploads carousels)" -eq "$1" ]; }
dir_empty() { [ -z "$(ls -A "$1")" ]; }

# A zone of its own: zone 7 "Guard", one campaign of N messages valid on
# DAY, and (with "new") nothing published yet at its key.
guard_zone() {
	if [ "${2:-}" = new ]; then
		s3_curl -o /dev/null -X DELETE "carousels/7/$DAY/carousel.bin"
		s3_curl -o /dev/null -X DELETE "carousels/7/$DAY/carousel.bin.moma"
	fi
	printf '7 Guard\n' > zones7
	export MOMA_ZONES=$PWD/zones7
	pg_sql -c "DELETE FROM messages WHERE campagne_id_fk IN (SELECT id FROM campagnes WHERE zone_diffusion = 7);
	  DELETE FROM campagnes WHERE zone_diffusion = 7;
	  INSERT INTO campagnes (id, zone_diffusion, valid_start, valid_end, genre, ack_count, ack_delay)
	    VALUES (700001, 7, '$DAY', timestamptz '$DAY' + interval '2 days', 1, 1, 10);
	  INSERT INTO messages (id, campagne_id_fk, numero_abonne, template_id, storables)
	    SELECT 70000000 + g, 700001, g, 1, jsonb_build_object('titre', 'Offre ' || g)
	      FROM generate_series(1, $1) g" >/dev/null
}
guard_keep() {   # guard_keep N: keep the first N messages of zone 7
	pg_sql -c "DELETE FROM messages WHERE campagne_id_fk = 700001 AND id > 70000000 + $1" >/dev/null
}
meta_of() {      # meta_of NAME: x-amz-meta-moma-NAME of zone 7's carousel
	"$BIN/moma-put" --head "s3://carousels/7/$DAY/carousel.bin.moma" | sed -n "s/^meta-moma-$1 //p"
}

@test "guard: an empty day is refused (exit 65), then published with --force" {
	guard_zone 0 new
	run_split "$ZONE_CMD" 7 "$DAY"
	assert_status $EX_DATAERR
	[[ "$output" == *"status=refused:empty rows=0 "* ]]
	[[ "$stderr" == *"nothing published"* ]]
	! s3_exists carousels "7/$DAY/carousel.bin"
	[ "$(s3_uploads carousels)" -eq 0 ]
	run_split "$ZONE_CMD" --force 7 "$DAY"
	assert_status 0
	[[ "$output" == *"status=ok rows=0 "* ]]
	[[ "$stderr" == *"--force: publishing although the guard says refused:empty"* ]]
	s3_get carousels "7/$DAY/carousel.bin" empty.bin
	[ ! -s empty.bin ]
	# Over a published carousel an empty day is refused too, old kept.
	guard_zone 1000
	run_split "$ZONE_CMD" 7 "$DAY"
	assert_status 0
	guard_keep 0
	s3_get carousels "7/$DAY/carousel.bin" before.bin
	etag_before=$(s3_etag carousels "7/$DAY/carousel.bin")
	run_split "$ZONE_CMD" 7 "$DAY"
	assert_status $EX_DATAERR
	[[ "$output" == *"status=refused:empty rows=0 sections=0 bytes=0 published=1000 "* ]]
	unchanged 7
	MOMA_ALLOW_EMPTY=1 run_split "$ZONE_CMD" 7 "$DAY"
	assert_status 0
	[[ "$output" == *"status=ok rows=0 "* ]]
}

@test "guard: an 80% drop is refused with the old object byte-identical, a 20% drop published" {
	guard_zone 1000 new
	run_split "$ZONE_CMD" 7 "$DAY"
	assert_status 0
	s3_get carousels "7/$DAY/carousel.bin" before.bin
	etag_before=$(s3_etag carousels "7/$DAY/carousel.bin")
	guard_keep 200
	run_split "$ZONE_CMD" 7 "$DAY"
	assert_status $EX_DATAERR
	[[ "$output" == *"status=refused:shrink rows=200 sections=200 "*" published=1000 "* ]]
	[[ "$stderr" == *"200 messages against 1000 published (MOMA_MAX_DROP=50)"* ]]
	unchanged 7
	# MOMA_MAX_DROP=90 lets it through
	MOMA_MAX_DROP=90 run_split "$ZONE_CMD" 7 "$DAY"
	assert_status 0
	[ "$(meta_of messages)" = 200 ]
	guard_zone 1000
	run_split "$ZONE_CMD" 7 "$DAY"
	assert_status 0
	guard_keep 800
	run_split "$ZONE_CMD" 7 "$DAY"
	assert_status 0
	[[ "$output" == *"status=ok rows=800 sections=800 "*" published=1000 "* ]]
	[ "$(meta_of messages)" = 800 ]
}

@test "metadata: counts equal to SQL, sha256 equal to a GET; an unchanged rerun publishes nothing" {
	guard_zone 1500 new
	run_split "$ZONE_CMD" 7 "$DAY"
	assert_status 0
	[[ "$output" =~ guard=[0-9.]+\ complete=[0-9.]+ ]]
	s3_get carousels "7/$DAY/carousel.bin" got.bin
	n=$(pg_sql -c "SELECT count(*) FROM messages WHERE campagne_id_fk = 700001")
	[ "$(meta_of messages)" = "$n" ]
	[ "$(meta_of sections)" = "$n" ]
	[ "$(meta_of sha256)" = "$(sha256sum < got.bin | cut -c1-64)" ]
	[ "$(meta_of bytes)" = "$(stat -c %s got.bin)" ]
	[ "$(meta_of etag)" = "$(s3_etag carousels "7/$DAY/carousel.bin")" ]
	# On the carousel itself, what is known when its upload starts.
	head=$("$BIN/moma-put" --head "s3://carousels/7/$DAY/carousel.bin")
	[[ "$head" == *"meta-moma-zone 7"* && "$head" == *"meta-moma-date $DAY"* ]]
	[[ "$head" == *"meta-moma-version "[0-9]* && "$head" =~ meta-moma-snapshot\ 20[0-9-]+T ]]
	lm=$(sed -n 's/^last-modified //p' <<<"$head")
	sleep 1.1
	run_split "$ZONE_CMD" 7 "$DAY"
	assert_status 0
	[[ "$output" == *"status=unchanged "* ]]
	head=$("$BIN/moma-put" --head "s3://carousels/7/$DAY/carousel.bin")
	[ "$(sed -n 's/^last-modified //p' <<<"$head")" = "$lm" ]
	[ "$(s3_uploads carousels)" -eq 0 ]
}

@test "metrics: MOMA_METRICS_DIR gets a textfile promtool accepts, kept across a failure" {
	guard_zone 300 new
	mkdir metrics
	MOMA_METRICS_DIR=$PWD/metrics run_split "$ZONE_CMD" 7 "$DAY"
	assert_status 0
	f=metrics/moma_zone_7.prom
	promtool check metrics < "$f"
	grep -q '^moma_zone_messages{zone="7",name="Guard"} 300$' "$f"
	grep -q '^moma_zone_status{zone="7",name="Guard",status="ok"} 1$' "$f"
	grep -q '^moma_zone_exit_code{zone="7",name="Guard"} 0$' "$f"
	ok_ts=$(sed -n 's/^moma_zone_last_success_timestamp_seconds{.*} //p' "$f")
	[ "$ok_ts" -gt 0 ]
	guard_keep 0
	sleep 1.1
	MOMA_METRICS_DIR=$PWD/metrics run_split "$ZONE_CMD" 7 "$DAY"
	assert_status $EX_DATAERR
	promtool check metrics < "$f"
	grep -q '^moma_zone_status{zone="7",name="Guard",status="refused:empty"} 1$' "$f"
	grep -q '^moma_zone_exit_code{zone="7",name="Guard"} 65$' "$f"
	# the last success is still the first run's; the last run is later
	[ "$(sed -n 's/^moma_zone_last_success_timestamp_seconds{.*} //p' "$f")" = "$ok_ts" ]
	[ "$(sed -n 's/^moma_zone_last_run_timestamp_seconds{.*} //p' "$f")" -gt "$ok_ts" ]
	[ -z "$(ls metrics | grep -v '\.prom$')" ]
}

@test "orphans: kill -9 of moma-zone stops its stages within 5 s and leaves no upload" {
	guard_zone 100000 new
	export MOMA_PUT_OPTS="-p 5M"
	publish 7
	pg_sql -c "UPDATE messages SET template_id = 2 WHERE campagne_id_fk = 700001" >/dev/null
	# The frames never end: the run stays in flight with its upload open.
	wrap moma-fetch '"$REAL" "$@"; exec sleep 60'
	mkdir tmpz
	TMPDIR=$PWD/tmpz "$ZONE_CMD" 7 "$DAY" > out 2> err &
	pid=$!
	wait_for 60 uploads_are 1
	kill -KILL $pid
	wait $pid 2>/dev/null || true
	# Every stage of the run is gone within 5 s, and so is the upload.
	# (the watchdog's own moma-put --abort may still be running: not a stage)
	# ([m] so that the pattern does not match the bash -c running it)
	wait_for 5 bash -c "! pgrep -f '$BIN/[m]oma-(fetch|encode) |$BIN/[m]oma-put .*--[p]repare' >/dev/null && ! pgrep -fx 'sleep 60' >/dev/null" ||
		{ pgrep -af "$BIN/[m]oma-|sleep 60" >&2; false; }
	wait_for 20 uploads_are 0
	wait_for 10 dir_empty tmpz
	unchanged 7
	rm bin/moma-fetch; ln -s "$BIN/moma-fetch" bin/moma-fetch
	run_split "$ZONE_CMD" 7 "$DAY"
	assert_status 0
	[[ "$output" == *"status=ok "* ]]
	[ "$(s3_uploads carousels)" -eq 0 ]
}

@test "moma-all: a '* Star' zones line and an unset MOMA_BUCKET stop the run before any zone" {
	printf '1 Afrique\n* Star\n3 Nouvelle-Calédonie\n' > zstar
	touch 3 'file with space'
	MOMA_ZONES=$PWD/zstar run_split "$ALL_CMD" -l "$PWD/joblog" "$DAY"
	assert_status 78
	[[ "$stderr" == *"zstar:2: \"*\" is not a network_id"* ]]
	[ ! -e joblog ]
	MOMA_BUCKET= run_split "$ALL_CMD" -l "$PWD/joblog" "$DAY"
	assert_status 78
	[[ "$stderr" == *"MOMA_BUCKET is not set; no zone started"* ]]
	[ ! -e joblog ]
	run_split "$ALL_CMD" --version
	assert_status 0
	[[ "$output" == "moma-all "[0-9]* ]]
	run_split "$ALL_CMD" --sshloginfile "$PWD/no-such-file" -l "$PWD/joblog" "$DAY"
	assert_status $EX_NOINPUT
	[[ "$stderr" == *"cannot read the sshlogin file $PWD/no-such-file"* ]]
	run_split "$ALL_CMD" --no-such-option "$DAY"
	assert_status $EX_USAGE
	[[ "$stderr" == *"usage: moma-all "*"[--filter-hosts]"* ]]
	[ ! -e joblog ]
}

@test "moma-all: a zone that fails at once is retried like one that fails late; refused is not retried" {
	# zone 2 fails at once on its first run only, zone 3 late on its first run only
	wrap moma-fetch "for a in \"\$@\"; do
  [ \"\$a\" = 2 ] && [ ! -e \"$PWD/z2\" ] && { touch \"$PWD/z2\"; echo 'moma-fetch: injected' >&2; exit 69; }
  [ \"\$a\" = 3 ] && [ ! -e \"$PWD/z3\" ] && { touch \"$PWD/z3\"; \"\$REAL\" \"\$@\" | head -c 5000; exit 75; }
done
exec \"\$REAL\" \"\$@\""
	printf '1 Afrique\n2 Caraïbes\n3 Nouvelle-Calédonie\n9 Vide\n' > z4
	MOMA_ZONES=$PWD/z4 run_split "$ALL_CMD" -j 2 -r 1 -l "$PWD/joblog" "$DAY"
	assert_status 1
	for z in 1 2 3; do grep -Eq "^$z +(ok|unchanged) " <<<"$output"; done
	grep -Eq '^9 +refused:empty ' <<<"$output"
	[[ "$stderr" == *"retry 1 of 2 zone(s): 2 3"* ]]
	# 4 first runs + 2 retries; zone 9 ran once
	[ "$(tail -n +2 joblog | grep -vc '^Seq')" -eq 6 ]
	[ "$(s3_uploads carousels)" -eq 0 ]
}

# Last: it restarts the S3 server on a new port, which later tests would
# not see (a test's exports end with it).
@test "fault: the S3 server killed mid-run: moma-put fails, nothing half-published" {
	publish 1
	export MOMA_PUT_OPTS="-r 1"
	wrap moma-encode "\"\$REAL\" \"\$@\" | { head -c 100000; \"$TOP/scripts/dev/moma-s3-server\" stop \"$MOMA_S3_DIR\" >/dev/null; cat; }"
	run_split "$ZONE_CMD" 1 "$DAY"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"moma-put failed (exit "* ]]
	[[ "$output" == *"status=failed:moma-put "* ]]
	s3_start "$MOMA_S3_DIR"
	unchanged 1
}
