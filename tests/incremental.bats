#!/usr/bin/env bats
# Incremental regeneration (issue 22): with change tracking on, a rerun of
# moma-zone reads only the campaigns whose revision changed and splices the
# others' bytes back; after every change the published carousel is
# compared byte for byte (cmp) with a full rebuild of the same data,
# moma-fetch | moma-encode.  On both S3 servers the suite knows: Swift
# (s3api) and Ceph radosgw.  Whenever a run cannot be sure, it is a full
# one and its summary says why.

load helpers
load lib/pg
load lib/s3
load lib/rgw

ZONE_CMD=$TOP/scripts/moma-zone
D1=2026-03-10
D2=2026-03-11

setup_file() {
	pg_start
	pg_sql -v moma_tracking=1 -f "$TOP/scripts/schema.sql" >/dev/null 2>&1
	s3_start
	s3_mb carousels
	# Swift's environment, kept to switch between the two servers.
	declare -p AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION > "$BATS_FILE_TMPDIR/swift.env"
	rgw_start
	rgw_mb carousels
}

teardown_file() {
	rgw_stop || true
	s3_stop || true
	pg_stop
}

on_swift() {
	. "$BATS_FILE_TMPDIR/swift.env"
	export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
	SERVER=swift
}

on_rgw() {
	export AWS_ENDPOINT_URL=$RGW_URL AWS_ACCESS_KEY_ID=$RGW_ACCESS AWS_SECRET_ACCESS_KEY=$RGW_SECRET \
		AWS_REGION=$RGW_REGION
	SERVER=rgw
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	printf '5 Incrementale\n' > zones
	export MOMA_ZONES=$PWD/zones MOMA_BIN=$BIN MOMA_BUCKET=carousels MOMA_CACHE_DIR=$PWD/cache
	# One key for every date: a rerun on the next day reuses too.
	export MOMA_KEY="{zone}/$BATS_TEST_NUMBER/carousel.bin" MOMA_MAX_DROP=100 MOMA_ALLOW_EMPTY=1
	unset MOMA_FETCH_OPTS MOMA_ENCODE_OPTS MOMA_PUT_OPTS MOMA_FORCE MOMA_METRICS_DIR
	on_swift
	load_zone
}

# load_zone: zone 5, campaigns 1..16 with 0..24 messages each; 13..16 are
# valid on D1 only.
load_zone() {
	pg_sql -c "TRUNCATE messages, campagnes;
	  INSERT INTO campagnes SELECT c, 5, '$D1', CASE WHEN c > 12 THEN timestamptz '$D1' + interval '12 hours'
	      ELSE timestamptz '$D2' + interval '1 day' END, 1 + c % 3, 1, 10 * c, 'c' || c
	    FROM generate_series(1, 16) c;
	  INSERT INTO messages SELECT 1000 * c + m, c, 100000 + m, m % 4,
	      jsonb_build_object('titre', 'Offre ' || c || '-' || m, 'prix', m * 7)
	    FROM generate_series(1, 16) c, generate_series(1, (c * 7) % 25) m" >/dev/null
}

# zone [ARGS]: moma-zone on zone 5; $line is its summary line.
zone() {
	run_split "$ZONE_CMD" "$@"
	line=$output
}

field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$line"; }

# same_as_full DATE: the published carousel is, byte for byte, a full
# rebuild of the database now.
same_as_full() {
	"$FETCH" --zone 5 --date "$1" | "$ENCODE" > full.sec
	get "$(key)" pub.sec
	cmp pub.sec full.sec
}
key() { echo "5/$BATS_TEST_NUMBER/carousel.bin"; }
# get KEY FILE: an object of the bucket, from the server in use.
get() {
	if [ "$SERVER" = swift ]; then s3_get carousels "$1" "$2"; else rgw_get carousels "$1" "$2"; fi
}

# Writes committed while a run reads, for certain, not by a race: bin/ has
# the tools, but its moma-fetch, once moma-zone starts it (after the run
# exported its snapshot and read the revisions), writes its arguments to
# fetch.args and waits for the file fetch.go before it runs the real one.
hold_bin() {
	mkdir -p bin
	for t in moma-encode moma-splice moma-put; do ln -sf "$BIN/$t" bin/$t; done
	cat > bin/moma-fetch <<-EOS
	#!/bin/sh
	printf '%s\n' "\$*" > "$PWD/fetch.args.new" && mv "$PWD/fetch.args.new" "$PWD/fetch.args"
	while [ ! -e "$PWD/fetch.go" ]; do sleep 0.05; done
	exec "$BIN/moma-fetch" "\$@"
	EOS
	chmod +x bin/moma-fetch
}

# held_start ARGS: moma-zone ARGS in the background with bin/'s moma-fetch;
# returns 0 once moma-fetch is held, 1 if the run ended without one
# (unchanged: nothing to read).
held_start() {
	local i
	rm -f fetch.args fetch.go
	MOMA_BIN=$PWD/bin "$ZONE_CMD" "$@" > held.out 2> held.err &
	held_pid=$!
	for i in $(seq 600); do
		[ -e fetch.args ] && return 0
		kill -0 "$held_pid" 2>/dev/null || return 1
		sleep 0.05
	done
	echo "moma-fetch was not started in 30 s" >&2
	return 2
}

# held_end: let moma-fetch go and wait for the run; $status, $line.
held_end() {
	touch fetch.go
	status=0
	wait "$held_pid" || status=$?
	held_pid=
	line=$(cat held.out) output=$line stderr=$(cat held.err)
}

teardown() {
	# A test that failed while a run was held: let it end.
	if [ -n "${held_pid:-}" ]; then
		touch "$BATS_TEST_TMPDIR/fetch.go"
		wait "$held_pid" 2>/dev/null || true
	fi
}

@test "first run full (nothing published), rerun unchanged without reading one row, one change read alone" {
	zone 5 $D1
	assert_status 0
	[ "$(field status)" = ok ]
	[[ $(field mode) == full:nothing-published ]]
	same_as_full $D1
	zone 5 $D1
	assert_status 0
	[ "$(field status)" = unchanged ]
	[ "$(field mode)" = unchanged ]
	[ "$(field rows)" = 0 ]
	[ "$(field changed)" = 0 ]
	[ "$(field reused)" = "16/$(stat -c %s pub.sec)" ]
	pg_sql -c "UPDATE messages SET storables = '{\"titre\": \"autre\"}' WHERE id = 3002"
	zone 5 $D1
	assert_status 0
	[ "$(field status)" = ok ]
	[ "$(field mode)" = incremental ]
	[ "$(field changed)" = 1 ]
	# Campaign 3's messages only: (3 * 7) % 25 = 21.
	[ "$(field rows)" = 21 ]
	same_as_full $D1
}

# change [KINDS]: one random change of the kinds the issue lists (of the
# first KINDS of them; 8: all but TRUNCATE, which waits for a run's lock).
change() {
	local c=$((RANDOM % 18 + 1)) k=$((RANDOM % ${1:-9}))
	case $k in
	0) pg_sql -c "INSERT INTO messages SELECT (SELECT coalesce(max(id), 0) + 1 FROM messages), $c, 7, 1,
	     '{\"titre\": \"nouveau\"}' WHERE EXISTS (SELECT 1 FROM campagnes WHERE id = $c)" ;;
	1) pg_sql -c "UPDATE messages SET storables = jsonb_set(storables, '{prix}', '$RANDOM') WHERE campagne_id_fk = $c AND id % 3 = 0" ;;
	2) pg_sql -c "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE campagne_id_fk = $c ORDER BY id LIMIT 2)" ;;
	3) pg_sql -c "UPDATE campagnes SET genre = $((RANDOM % 5)), ack_delay = $RANDOM WHERE id = $c" ;;
	4) pg_sql -c "UPDATE campagnes SET valid_end = valid_end + interval '1 day' * (CASE WHEN valid_end < '$D2' THEN 2 ELSE -1 END) WHERE id = $c" ;;
	5) pg_sql -c "UPDATE campagnes SET nom = 'renamed $RANDOM' WHERE id = $c" ;;	# not in a section
	6) pg_sql -c "DELETE FROM messages WHERE campagne_id_fk = $c; DELETE FROM campagnes WHERE id = $c;
	     INSERT INTO campagnes VALUES ($c, 5, '$D1', '$D2'::date + 1, 2, 1, 5, 'again');
	     INSERT INTO messages SELECT 1000 * $c + m, $c, m, 1, '{\"titre\": \"re\"}' FROM generate_series(1, 5) m" ;;
	7) pg_sql -c "UPDATE messages SET campagne_id_fk = $(((c % 16) + 1)) WHERE id IN (SELECT id FROM messages WHERE campagne_id_fk = $c ORDER BY id LIMIT 1)" ;;
	8) [ $((RANDOM % 3)) = 0 ] && load_zone || pg_sql -c "SELECT 1" ;;	# TRUNCATE and reload
	esac >/dev/null
}

# random_changes SEED N: N steps of random changes, each followed by a
# run; in half of the steps (when the run reads at all) more random writes
# are committed while it reads, after its snapshot: its carousel is the
# full rebuild of the data as of the snapshot, and the next run's takes the
# writes in.
random_changes() {
	local seed=$1 n=$2 i d during overlapped=0
	RANDOM=$seed
	hold_bin
	zone 5 $D1
	assert_status 0
	for i in $(seq "$n"); do
		change
		[ $((RANDOM % 2)) = 0 ] && change
		d=$D1
		[ $((RANDOM % 3)) = 0 ] && d=$D2
		during=$((RANDOM % 2))
		rm -f ref.sec
		if held_start 5 $d; then
			# The run's snapshot is the data now: nothing was committed
			# since it started.
			"$FETCH" --zone 5 --date $d | "$ENCODE" > ref.sec
			if [ "$during" = 1 ]; then
				change 8
				change 8
				overlapped=$((overlapped + 1))
			fi
		fi
		held_end
		assert_status 0
		[[ $(field status) == ok || $(field status) == unchanged ]]
		[[ $(field mode) == incremental || $(field mode) == unchanged ]] ||
			{ echo "step $i (seed $seed): $line" >&2; return 1; }
		if [ -f ref.sec ]; then
			get "$(key)" pub.sec
			cmp pub.sec ref.sec || { echo "step $i (seed $seed, $SERVER): not the snapshot's: $line" >&2; return 1; }
		else
			same_as_full $d || { echo "step $i (seed $seed, $SERVER): differs: $line" >&2; return 1; }
		fi
	done
	# Some steps had writes during the run (the seeds are chosen so).
	[ "$overlapped" -ge 3 ]
	# The last step's writes too.
	zone 5 $D1
	assert_status 0
	[[ $(field mode) == incremental || $(field mode) == unchanged ]]
	same_as_full $D1
}

@test "random changes, Swift: every incremental carousel is the full rebuild's bytes" {
	random_changes 22 14
}

@test "random changes, radosgw: every incremental carousel is the full rebuild's bytes" {
	on_rgw
	random_changes 2022 10
}

# overlap: writes committed while an incremental run reads (inserts,
# updates, deletes in the campaigns it reads and in those it reuses, a
# campaign field): the carousel is the full rebuild as of its snapshot;
# the next run reads exactly the campaigns written and equals a --full run.
overlap() {
	zone 5 $D1
	assert_status 0
	# Campaigns 3 and 7 changed: the run reads them, reuses the others.
	pg_sql -c "UPDATE messages SET template_id = 5 WHERE campagne_id_fk IN (3, 7) AND id % 2 = 0" >/dev/null
	"$FETCH" --zone 5 --date $D1 | "$ENCODE" > snap.sec
	hold_bin
	held_start 5 $D1
	grep -q -- '--snapshot ' fetch.args
	grep -q -- '--campaigns ' fetch.args
	pg_sql -c "INSERT INTO messages VALUES (3900, 3, 1, 1, '{\"titre\": \"pendant\"}');
	  UPDATE messages SET storables = '{\"titre\": \"pendant\"}' WHERE id = 7001;
	  DELETE FROM messages WHERE id = 7002;
	  INSERT INTO messages VALUES (2900, 2, 1, 1, '{\"titre\": \"pendant\"}');
	  UPDATE messages SET storables = '{\"prix\": 0}' WHERE id = 9003;
	  DELETE FROM messages WHERE id = 11001;
	  UPDATE campagnes SET ack_delay = 77 WHERE id = 5" >/dev/null
	held_end
	assert_status 0
	[ "$(field status)" = ok ]
	[ "$(field mode)" = incremental ]
	[ "$(field changed)" = 2 ]
	# Campaigns 3 and 7 as of the snapshot: 21 + 24 messages.
	[ "$(field rows)" = 45 ]
	get "$(key)" pub.sec
	cmp pub.sec snap.sec
	# (The writes did change the zone's carousel.)
	"$FETCH" --zone 5 --date $D1 | "$ENCODE" > now.sec
	run cmp -s pub.sec now.sec
	assert_status 1
	# The next run: the six campaigns written to (2, 3, 5, 7, 9, 11), the
	# others reused.
	zone 5 $D1
	assert_status 0
	[ "$(field status)" = ok ]
	[ "$(field mode)" = incremental ]
	[ "$(field changed)" = 6 ]
	[[ $(field reused) == 10/* ]]
	same_as_full $D1
	MOMA_KEY="5/$BATS_TEST_NUMBER/full.bin" zone --full 5 $D1
	assert_status 0
	[ "$(field mode)" = full:--full ]
	get "5/$BATS_TEST_NUMBER/full.bin" full.bin
	cmp pub.sec full.bin
}

@test "writes committed while the run reads, Swift: the snapshot's carousel; the next run takes them in" {
	overlap
}

@test "writes committed while the run reads, radosgw: the snapshot's carousel; the next run takes them in" {
	on_rgw
	overlap
}

@test "a full run, and why: --full, no tracking, triggers disabled, other options, --ts, no local copy, another ETag" {
	zone 5 $D1
	zone --full 5 $D1
	assert_status 0
	[ "$(field mode)" = full:--full ]
	same_as_full $D1
	pg_sql -c "ALTER TABLE messages DISABLE TRIGGER moma_messages_upd"
	zone 5 $D1
	[ "$(field mode)" = full:triggers-disabled ]
	pg_sql -c "ALTER TABLE messages ENABLE TRIGGER moma_messages_upd"
	MOMA_ENCODE_OPTS="--max-section 300" zone 5 $D1
	assert_status 0
	[ "$(field mode)" = full:other-version-or-options ]
	# That run's index has the other options: back to the defaults is full too.
	zone 5 $D1
	[ "$(field mode)" = full:other-version-or-options ]
	pg_sql -c "UPDATE messages SET template_id = 9 WHERE id = 2001"
	rm -rf cache
	zone 5 $D1
	assert_status 0
	[ "$(field mode)" = full:local-copy-not-of-published-etag ]
	same_as_full $D1
	# Someone else's carousel at the key: its index no longer matches.
	"$FETCH" --zone 5 --date $D1 | "$ENCODE" --max-section 100 | "$PUT" "s3://carousels/$(key)"
	zone 5 $D1
	[ "$(field mode)" = full:index-not-of-published-etag ]
	same_as_full $D1
	pg_sql -f "$TOP/scripts/moma-tracking-off.sql" >/dev/null
	zone 5 $D1
	assert_status 0
	[ "$(field mode)" = full:no-change-tracking ]
	pg_sql -f "$TOP/scripts/moma-tracking.sql" >/dev/null 2>&1
	# Turned on again: every campaign has a new revision, all are read.
	zone 5 $D1
	[ "$(field mode)" = incremental ]
	[ "$(field changed)" = 16 ]
	same_as_full $D1
}

@test "--ts: always a full run, documented; the carousel is the TS of a full rebuild" {
	export MOMA_ENCODE_OPTS="--ts --pid 0x100"
	zone 5 $D1
	assert_status 0
	[ "$(field mode)" = full:--ts ]
	zone 5 $D1
	[ "$(field mode)" = full:--ts ]
	[ "$(field status)" = unchanged ]
	"$FETCH" --zone 5 --date $D1 | "$ENCODE" --ts --pid 0x100 > full.ts
	s3_get carousels "$(key)" pub.ts
	cmp pub.ts full.ts
}

@test "the published carousel replaced during the run: nothing published over it (75)" {
	zone 5 $D1
	pg_sql -c "UPDATE messages SET template_id = 3 WHERE id = 5001"
	# A moma-fetch that, once started, lets another writer publish first.
	mkdir bin
	for t in moma-encode moma-splice moma-put; do ln -s "$BIN/$t" bin/$t; done
	cat > bin/moma-fetch <<-EOS
	#!/bin/sh
	echo other | "$BIN/moma-put" "s3://carousels/$(key)" >/dev/null
	exec "$BIN/moma-fetch" "\$@"
	EOS
	chmod +x bin/moma-fetch
	MOMA_BIN=$PWD/bin zone 5 $D1
	assert_status 75
	[ "$(field status)" = failed:changed ]
	s3_get carousels "$(key)" pub.sec
	[ "$(cat pub.sec)" = other ]
	[ "$(s3_uploads carousels)" = 0 ]
	zone 5 $D1
	assert_status 0
	[ "$(field mode)" = full:index-not-of-published-etag ]
	same_as_full $D1
}

@test "--plan: campaigns added, removed, changed with message counts; nothing read or published" {
	zone 5 $D1
	etag=$(s3_etag carousels "$(key)")
	pg_sql -c "UPDATE messages SET template_id = 8 WHERE campagne_id_fk = 2;
	  DELETE FROM messages WHERE campagne_id_fk = 4; DELETE FROM campagnes WHERE id = 4;
	  INSERT INTO campagnes VALUES (40, 5, '$D1', '$D2', 1, 1, 1, 'new');
	  INSERT INTO messages SELECT 40000 + g, 40, g, 1, '{}' FROM generate_series(1, 6) g" >/dev/null
	zone --plan 5 $D1
	assert_status 0
	[[ $output == *"mode=incremental"* ]]
	grep -qx 'added 40 messages=6' <<<"$output"
	grep -qx 'removed 4 messages=3' <<<"$output"
	grep -qx 'changed 2 messages=14->14' <<<"$output"
	grep -qx 'summary added=1 removed=1 changed=1 unchanged=14 unchanged_messages=185' <<<"$output"
	[ "$(s3_etag carousels "$(key)")" = "$etag" ]
	pg_sql -f "$TOP/scripts/moma-tracking-off.sql" >/dev/null
	zone --plan 5 $D1
	assert_status 0
	[[ $output == *"full: no-change-tracking"* ]]
	pg_sql -f "$TOP/scripts/moma-tracking.sql" >/dev/null 2>&1
}

@test "moma(7)'s read-only role and its tracking GRANT, exactly as the guide prints them: incremental, not full for lack of permission" {
	# The role's block as standby.bats takes it (its three GRANTs only),
	# and the block of INCREMENTAL REGENERATION, on a database where
	# PUBLIC may not even connect.
	sed -n '/^CREATE ROLE moma_reader/,/^\.Ed/p' "$TOP/man/moma.7" | sed '$d' > role.sql
	[ "$(grep -c '^GRANT ' role.sql)" -eq 3 ]
	sed -n '/^GRANT SELECT ON moma_revisions/,/^\.Ed/p' "$TOP/man/moma.7" | sed '$d' > tracking.sql
	grep -qx 'GRANT SELECT ON moma_revisions TO moma_reader;' tracking.sql
	pg_sql -c "REVOKE ALL ON DATABASE moma FROM PUBLIC" -c "REVOKE ALL ON SCHEMA public FROM PUBLIC"
	pg_sql -c "DROP OWNED BY moma_reader" -c "DROP ROLE moma_reader" 2>/dev/null || true
	pg_sql -f role.sql >/dev/null
	pg_sql -f tracking.sql >/dev/null
	PGUSER=moma_reader zone 5 $D1
	assert_status 0
	[ "$(field mode)" = full:nothing-published ]
	pg_sql -c "UPDATE messages SET template_id = 6 WHERE id = 4002" >/dev/null
	PGUSER=moma_reader zone --plan 5 $D1
	assert_status 0
	[[ $output == *"mode=incremental"* ]]
	grep -qx 'changed 4 messages=3->3' <<<"$output"
	PGUSER=moma_reader zone 5 $D1
	assert_status 0
	[ "$(field status)" = ok ]
	[ "$(field mode)" = incremental ]
	[ "$(field changed)" = 1 ]
	same_as_full $D1
	# Without that GRANT: a full run, saying why.
	pg_sql -c "REVOKE SELECT ON moma_revisions FROM moma_reader"
	pg_sql -c "UPDATE messages SET template_id = 7 WHERE id = 4002" >/dev/null
	PGUSER=moma_reader zone 5 $D1
	assert_status 0
	[ "$(field mode)" = full:revisions-unreadable ]
	same_as_full $D1
	pg_sql -f tracking.sql >/dev/null
}

@test "moma-all --plan: each zone's plan, tagged, nothing written to the bucket; --full: every zone a full run" {
	printf '5 Incrementale\n6 Vide\n' > zones
	run_split "$TOP/scripts/moma-all" -l "$PWD/joblog" $D1
	assert_status 0
	[[ $stderr == *"zone=5 "*"mode=full:nothing-published"* ]]
	e5=$(s3_etag carousels "5/$BATS_TEST_NUMBER/carousel.bin")
	e6=$(s3_etag carousels "6/$BATS_TEST_NUMBER/carousel.bin")
	pg_sql -c "UPDATE messages SET template_id = 8 WHERE campagne_id_fk = 2" >/dev/null
	# An upload left open at zone 5's key: a run with MOMA_STALE=0s would
	# abort it, a plan must not.
	echo open | "$PUT" --prepare "$PWD/open.state" "s3://carousels/5/$BATS_TEST_NUMBER/carousel.bin"
	[ "$(s3_uploads carousels)" = 1 ]
	sleep 2	# (older than 0 s, by the server's clock too)
	MOMA_STALE=0s run_split "$TOP/scripts/moma-all" --plan -l "$PWD/joblog" $D1
	assert_status 0
	grep -q '^zone 5: zone=5 name=Incrementale date=2026-03-10 .* mode=incremental reused=15/[0-9]* changed=1$' <<<"$output"
	grep -qx 'zone 5: changed 2 messages=14->14' <<<"$output"
	grep -qx 'zone 5: summary added=0 removed=0 changed=1 unchanged=15 unchanged_messages=[0-9]*' <<<"$output"
	grep -q '^zone 6: zone=6 name=Vide .* mode=unchanged ' <<<"$output"
	# Zone after zone, in the order of the zones file.
	[ "$(grep -n '^zone 6:' <<<"$output" | head -n 1 | cut -d: -f1)" -gt "$(grep -n '^zone 5:' <<<"$output" | tail -n 1 | cut -d: -f1)" ]
	[ "$(grep -c $'\t.*--plan' joblog)" = 2 ]
	[ "$(s3_etag carousels "5/$BATS_TEST_NUMBER/carousel.bin")" = "$e5" ]
	[ "$(s3_etag carousels "6/$BATS_TEST_NUMBER/carousel.bin")" = "$e6" ]
	[ "$(s3_uploads carousels)" = 1 ]
	"$PUT" --abort "$PWD/open.state"
	run_split "$TOP/scripts/moma-all" --full -l "$PWD/joblog" $D1
	assert_status 0
	[[ $stderr == *"zone=5 "*"status=ok"*"mode=full:--full"* ]]
	[[ $stderr == *"zone=6 "*"mode=full:--full"* ]]
	[ "$(grep -c $'\t.*--full 5 ' joblog)" = 1 ]
	same_as_full $D1
	run_split "$TOP/scripts/moma-all" --full --plan $D1
	assert_status "$EX_USAGE"
	[[ $stderr == *"[--full | --plan]"* ]]
}

# Debian's awk is mawk, which writes a computed number past 2^31 as
# 7.33549e+09: a 40 M-row carousel is 7.4 GB.  The index writer and the
# summary's sums, on an index whose places pass 2^32, without a carousel
# that large: incr_publish and incr_prepare's sums from moma-incr.sh
# itself, moma-put replaced by a function that keeps what it is given.
@test "places and sums past 2^31 (a 7.4 GB carousel) are written whole, not as 7.33549e+09" {
	tmp=$BATS_TEST_TMPDIR
	prog=moma-zone zone=3 date=$DAY url=s3://b/k version=test name=x msgs=3 rejected=0
	put() { cat > "$tmp/put.out"; }
	# shellcheck source=/dev/null
	source "$TOP/scripts/moma-incr.sh"
	incr_tracked=1
	# campaigns 1 and 3 with sections, 2 and 4 without: 2 sits at 3's
	# place, 4 at the end.
	printf '%s\n' '1 0 3000000000 1 1' '3 3000000000 4400000000 2 2' > "$tmp/new.idx"
	printf '%s\n' '1 5' '2 6' '3 7' '4 8' > "$tmp/revs"
	incr_publish etag 7400000000 3
	diff -u - <(tail -n +2 "$tmp/put.out") <<-'END'
	1 5 0 3000000000 1 1
	2 6 3000000000 0 0 0
	3 7 3000000000 4400000000 2 2
	4 8 7400000000 0 0 0
	END
	printf '%s\n' '1 0 3000000000 1 1' '3 3000000000 4400000000 2 2' > "$tmp/plan"
	run awk '{ s += $3 } END { printf "%.0f\n", s }' "$tmp/plan"
	[ "$output" = 7400000000 ]
	# and the code says so, where it sums
	run grep -c 'printf "%.0f' "$TOP/scripts/moma-incr.sh"
	[ "$output" -ge 2 ]
	! grep -nE 'print s \+ 0|\(pos \+ 0\)' "$TOP/scripts/moma-incr.sh" "$TOP/scripts/moma-zone"
}
