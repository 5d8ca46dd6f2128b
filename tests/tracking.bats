#!/usr/bin/env bats
# Change tracking for incremental regeneration (issue 22): the revision of
# each campaign (scripts/moma-tracking.sql) changes with every statement
# that may change the campaign's sections, and with nothing else.  On the
# real PostgreSQL the suite starts.

load helpers
load lib/pg

setup_file() {
	pg_start
}

teardown_file() {
	pg_stop
}

setup() {
	pg_sql -v moma_tracking=1 -f "$TOP/scripts/schema.sql" >/dev/null 2>&1
	pg_sql -c "INSERT INTO campagnes VALUES
	    (1, 3, '2026-01-01', '2026-02-01', 1, 1, 10, 'un'),
	    (2, 3, '2026-01-01', '2026-02-01', 1, 1, 10, 'deux'),
	    (3, 4, '2026-01-01', '2026-02-01', 1, 1, 10, 'trois');
	  INSERT INTO messages SELECT g, 1 + g % 3, g, 1, '{}' FROM generate_series(1, 30) g" >/dev/null
}

rev() { pg_sql -c "SELECT revision FROM moma_revisions WHERE campagne_id = $1"; }
revs() { pg_sql -c "SELECT string_agg(campagne_id || ':' || revision, ' ' ORDER BY campagne_id) FROM moma_revisions"; }

@test "every campaign has a revision, all different" {
	run pg_sql -c "SELECT count(*), count(DISTINCT revision) FROM moma_revisions"
	[ "$output" = $'3\t3' ]
}

@test "INSERT, UPDATE, DELETE of messages: the campaigns touched, and only they" {
	local a b c
	a=$(rev 1) b=$(rev 2) c=$(rev 3)
	pg_sql -c "INSERT INTO messages VALUES (100, 2, 1, 1, '{}'), (101, 2, 1, 1, '{}')"
	[ "$(rev 1)" = "$a" ] && [ "$(rev 3)" = "$c" ] && [ "$(rev 2)" -gt "$b" ]
	b=$(rev 2)
	pg_sql -c "UPDATE messages SET storables = '{\"prix\": 1}' WHERE id = 3"	# campaign 1
	[ "$(rev 1)" -gt "$a" ] && [ "$(rev 2)" = "$b" ]
	a=$(rev 1)
	# A message moved from campaign 1 to 3: both.
	pg_sql -c "UPDATE messages SET campagne_id_fk = 3 WHERE id = 6"
	[ "$(rev 1)" -gt "$a" ] && [ "$(rev 3)" -gt "$c" ] && [ "$(rev 2)" = "$b" ]
	a=$(rev 1) c=$(rev 3)
	pg_sql -c "DELETE FROM messages WHERE id = 100"
	[ "$(rev 2)" -gt "$b" ] && [ "$(rev 1)" = "$a" ] && [ "$(rev 3)" = "$c" ]
	# A statement that touches no row changes nothing.
	b=$(rev 2)
	pg_sql -c "DELETE FROM messages WHERE id = 999999"
	[ "$(revs)" = "1:$a 2:$b 3:$c" ]
}

@test "a rolled-back change leaves the revision as it was" {
	local a
	a=$(rev 1)
	pg_sql -c "BEGIN; UPDATE messages SET template_id = 2 WHERE id = 3; ROLLBACK"
	[ "$(rev 1)" = "$a" ]
}

@test "campagnes: the fields of a section bump, nom does not; delete and re-create never reuses one" {
	local a
	a=$(rev 1)
	pg_sql -c "UPDATE campagnes SET nom = 'autre' WHERE id = 1"
	[ "$(rev 1)" = "$a" ]
	for set in "genre = 2" "ack_count = 3" "ack_delay = 5" "valid_start = '2026-01-02'" \
	    "valid_end = '2026-03-01'" "zone_diffusion = 5"; do
		pg_sql -c "UPDATE campagnes SET $set WHERE id = 1"
		[ "$(rev 1)" -gt "$a" ] || { echo "$set did not bump" >&2; return 1; }
		a=$(rev 1)
	done
	# Deleted and re-created with the same id: a revision never seen before.
	pg_sql -c "DELETE FROM messages WHERE campagne_id_fk = 1; DELETE FROM campagnes WHERE id = 1;
	  INSERT INTO campagnes VALUES (1, 3, '2026-01-01', '2026-02-01', 1, 1, 10, 'un')"
	[ "$(rev 1)" -gt "$a" ]
}

@test "TRUNCATE messages marks every campaign changed; TRUNCATE campagnes forgets them" {
	local before
	before=$(pg_sql -c "SELECT max(revision) FROM moma_revisions")
	pg_sql -c "TRUNCATE messages"
	run pg_sql -c "SELECT count(*) FROM moma_revisions WHERE revision > $before"
	[ "$output" = 3 ]
	pg_sql -c "TRUNCATE messages, campagnes"
	run pg_sql -c "SELECT count(*) FROM moma_revisions"
	[ "$output" = 0 ]
	pg_sql -c "INSERT INTO campagnes VALUES (7, 3, '2026-01-01', '2026-02-01', 1, 1, 10, 'x')"
	[ "$(rev 7)" -gt "$before" ]
}

@test "the migration on a database without tracking: every campaign gets a new revision; run twice, still one set of triggers" {
	pg_sql -f "$TOP/scripts/moma-tracking-off.sql" >/dev/null
	run pg_sql -c "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'moma_%'"
	[ "$output" = 0 ]
	pg_sql -f "$TOP/scripts/moma-tracking.sql" >/dev/null 2>&1
	pg_sql -f "$TOP/scripts/moma-tracking.sql" >/dev/null 2>&1
	run pg_sql -c "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'moma_%'"
	[ "$output" = 6 ]
	run pg_sql -c "SELECT count(*) FROM moma_revisions"
	[ "$output" = 3 ]
}

@test "schema.sql without -v moma_tracking: no trigger, no table" {
	pg_sql -f "$TOP/scripts/schema.sql" >/dev/null 2>&1
	run pg_sql -c "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'moma_%'"
	[ "$output" = 0 ]
	run pg_sql -c "SELECT to_regclass('moma_revisions') IS NULL"
	[ "$output" = t ]
}
