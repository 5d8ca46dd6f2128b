#!/usr/bin/env bats
# moma-fetch against a hot standby, where a batch reader belongs: a
# streaming replica of the test cluster (pg_basebackup, standby.signal,
# its own Unix socket) gives the same messages as the primary, with one
# connection and with -j 2 (an exported snapshot, which PostgreSQL allows
# on a standby since 10), and follows what the primary commits.

load helpers
load lib/pg

export LC_ALL=C
DATE=2026-11-15

setup_file() {
	[ -x "$FETCH" ] || { echo "moma-fetch not built in $MOMA_BUILD" >&2; return 1; }
	pg_start
	MOMA_BUILD=$MOMA_BUILD "$TOP/scripts/dev/moma-sample" -n 20000 -s 3 2>/dev/null
	pg_start_standby
	wait_for 30 pg_standby_caught_up
}

teardown_file() {
	pg_stop_standby
	pg_stop
}

# messages FILE: the messages of a frame stream, one JSON line each,
# sorted, without the frame's running number: the default query has no
# ORDER BY, so the order may differ between servers and with -j K; the
# set of messages is what must not.
messages() {
	"$DUMP" -t frames "$1" | jq -c 'select(.type == "message") | del(.frame)' | sort
}

@test "the standby is a hot standby in recovery, streaming from the primary" {
	run on_standby pg_sql -c "SELECT pg_is_in_recovery()"
	assert_status 0
	[ "$output" = t ]
	run on_standby pg_sql -c "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'"
	[ "$output" = 1 ]
	run pg_sql -c "SELECT pg_is_in_recovery()"
	[ "$output" = f ]
}

@test "moma-fetch reads from the standby the messages it reads from the primary" {
	for z in 1 3; do
		"$FETCH" --zone $z --date $DATE > "$BATS_TEST_TMPDIR/p$z"
		on_standby "$FETCH" --zone $z --date $DATE > "$BATS_TEST_TMPDIR/s$z"
		messages "$BATS_TEST_TMPDIR/p$z" > "$BATS_TEST_TMPDIR/p$z.txt"
		messages "$BATS_TEST_TMPDIR/s$z" > "$BATS_TEST_TMPDIR/s$z.txt"
		[ "$(wc -l < "$BATS_TEST_TMPDIR/p$z.txt")" -gt 100 ]
		diff -u "$BATS_TEST_TMPDIR/p$z.txt" "$BATS_TEST_TMPDIR/s$z.txt"
	done
}

@test "moma-fetch -j 2 on the standby: one exported snapshot, the same messages" {
	"$FETCH" --zone 2 --date $DATE > "$BATS_TEST_TMPDIR/p"
	on_standby "$FETCH" --zone 2 --date $DATE -j 2 > "$BATS_TEST_TMPDIR/s"
	messages "$BATS_TEST_TMPDIR/p" > "$BATS_TEST_TMPDIR/p.txt"
	messages "$BATS_TEST_TMPDIR/s" > "$BATS_TEST_TMPDIR/s.txt"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/p.txt")" -gt 100 ]
	diff -u "$BATS_TEST_TMPDIR/p.txt" "$BATS_TEST_TMPDIR/s.txt"
	# the trailer's count is the database's
	n=$(pg_sql -c "SELECT count(*) FROM messages m JOIN campagnes c ON c.id = m.campagne_id_fk
		WHERE c.zone_diffusion = 2 AND c.valid_start < date '$DATE' + 1 AND c.valid_end >= date '$DATE'")
	[ "$("$DUMP" "$BATS_TEST_TMPDIR/s" | jq -r 'select(.type == "end") | .count')" -eq "$n" ]
}

@test "a message committed on the primary is read from the standby once replayed" {
	on_standby "$FETCH" --zone 4 --date $DATE > "$BATS_TEST_TMPDIR/b"
	before=$("$DUMP" "$BATS_TEST_TMPDIR/b" | jq -r 'select(.type == "end") | .count')
	[ "$before" -gt 100 ]
	pg_sql -c "INSERT INTO campagnes (id, zone_diffusion, valid_start, valid_end, genre, ack_count, ack_delay, nom)
		VALUES (990001, 4, '$DATE', '$DATE 23:59:59', 1, 1, 10, 'standby test');
		INSERT INTO messages (id, campagne_id_fk, numero_abonne, template_id, storables)
		VALUES (990001, 990001, 4242, 1, '{\"titre\": \"sur le standby\"}')" >/dev/null
	wait_for 30 pg_standby_caught_up
	on_standby "$FETCH" --zone 4 --date $DATE -j 2 > "$BATS_TEST_TMPDIR/s"
	[ "$("$DUMP" "$BATS_TEST_TMPDIR/s" | jq -r 'select(.type == "end") | .count')" -eq $((before + 1)) ]
	"$DUMP" "$BATS_TEST_TMPDIR/s" | jq -se 'map(select(.type == "message" and .id == 990001))
		| length == 1 and .[0].numero_abonne == 4242 and .[0].storables.titre == "sur le standby"' >/dev/null
}

@test "moma(7)'s read-only role is all moma-fetch needs, on primary and standby; without SELECT, 78" {
	# the GRANTs exactly as the guide prints them, on a database where
	# PUBLIC may not even connect
	sed -n '/^CREATE ROLE moma_reader/,/^\.Ed/p' "$TOP/man/moma.7" | sed '$d' > "$BATS_TEST_TMPDIR/role.sql"
	[ "$(grep -c '^GRANT ' "$BATS_TEST_TMPDIR/role.sql")" -eq 3 ]
	pg_sql -c "REVOKE ALL ON DATABASE moma FROM PUBLIC" -c "REVOKE ALL ON SCHEMA public FROM PUBLIC"
	pg_sql -f "$BATS_TEST_TMPDIR/role.sql" >/dev/null
	wait_for 30 pg_standby_caught_up
	"$FETCH" --zone 1 --date $DATE > "$BATS_TEST_TMPDIR/owner"
	messages "$BATS_TEST_TMPDIR/owner" > "$BATS_TEST_TMPDIR/owner.txt"
	[ -s "$BATS_TEST_TMPDIR/owner.txt" ]
	for on in "" on_standby; do
		for j in 1 2; do
			PGUSER=moma_reader $on "$FETCH" --zone 1 --date $DATE -j $j > "$BATS_TEST_TMPDIR/r"
			messages "$BATS_TEST_TMPDIR/r" | diff -u "$BATS_TEST_TMPDIR/owner.txt" -
		done
		PGUSER=moma_reader $on "$FETCH" --zone 1 --date $DATE --explain | grep -q 'campagnes'
		[ "$(PGUSER=moma_reader $on pg_sql -c 'SHOW statement_timeout')" = 30min ]
		[ "$(PGUSER=moma_reader $on pg_sql -c 'SHOW default_transaction_read_only')" = on ]
	done
	pg_sql -c "REVOKE SELECT ON messages FROM moma_reader"
	run_split env PGUSER=moma_reader "$FETCH" --zone 1 --date $DATE
	pg_sql -c "GRANT SELECT ON messages TO moma_reader"
	assert_status $EX_CONFIG
	[[ $stderr == *"permission denied for table messages"* ]]
}
