#!/usr/bin/env bats
# moma-fetch against a real PostgreSQL server (tests/lib/pg.bash): sample
# data from scripts/dev/moma-sample for zones 1-4 plus the hand-made rows of
# tests/fixtures/fetch.sql.  Frames are decoded by
# moma-dump and jq (one tab-separated line per message) and compared
# field by field with an independent psql query.

load helpers
load lib/pg

export LC_ALL=C

setup_file() {
	[ -x "$FETCH" ] || { echo "moma-fetch not built in $MOMA_BUILD" >&2; return 1; }
	# Small shared buffers: PostgreSQL synchronizes sequential scans of a
	# table over a quarter of them (4 MB here; messages is about 25 MB), so
	# the order tests below see a scan start mid-table.
	export MOMA_PG_SHARED_BUFFERS=16MB
	pg_start
	MOMA_BUILD=$MOMA_BUILD "$TOP/scripts/dev/moma-sample" -n 50000 -c 300 -s 7 2>/dev/null
	pg_sql -f "$FIXTURES/fetch.sql" >/dev/null
}

teardown_file() {
	pg_stop
}

# Both sides of a comparison go through jq, so JSON spacing and key order
# (PostgreSQL's jsonb text vs moma-dump's compact form) cannot differ.
normalize_storables='fromjson | to_entries | sort_by(.key) | from_entries | tojson'

# frame_tsv FILE: decode a frame stream with moma-dump into tab-separated
# lines (H header, messages with Unix-second times, E count); exit 65 like
# moma-dump when the stream is not complete and valid.
frame_tsv() {
	"$DUMP" -t frames "$1" >"$BATS_TEST_TMPDIR/dump.jsonl" || return
	jq -r --arg n "$normalize_storables" '
	    # jq'"'"'s fromdateiso8601 fails before 1970: days from civil by hand
	    def secs: if type == "string" then
	        capture("^(?<y>[0-9]+)-(?<m>[0-9]+)-(?<d>[0-9]+)T(?<H>[0-9]+):(?<M>[0-9]+):(?<S>[0-9]+)Z$")
	        | map_values(tonumber) as $t
	        | ($t.y - (if $t.m <= 2 then 1 else 0 end)) as $y
	        | (($y - (if $y < 0 then 399 else 0 end)) / 400 | floor) as $era
	        | ($y - $era * 400) as $yoe
	        | (((153 * ($t.m + (if $t.m > 2 then -3 else 9 end)) + 2) / 5 | floor) + $t.d - 1) as $doy
	        | ($yoe * 365 + ($yoe / 4 | floor) - ($yoe / 100 | floor) + $doy) as $doe
	        | ($era * 146097 + $doe - 719468) * 86400 + $t.H * 3600 + $t.M * 60 + $t.S
	      else . end;
	    if .type == "header" then ["H", .version, .network_id, .date, .zone, .producer]
	    elif .type == "end" then ["E", .count]
	    else [.id, .campagne_id, .numero_abonne, (.valid_start | secs), (.valid_end | secs),
	          .template_id, .ack_delay, .genre, .ack_count,
	          (.storables | to_entries | sort_by(.key) | from_entries | tojson)] end
	    | @tsv' "$BATS_TEST_TMPDIR/dump.jsonl"
}

# fetch ARGS...: run moma-fetch, frames in $BATS_TEST_TMPDIR/out, then
# decode them into $tsv (empty if the stream is not complete and valid).
fetch() {
	status=0
	"$FETCH" "$@" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || status=$?
	stderr=$(cat "$BATS_TEST_TMPDIR/err")
	output="($(stat -c %s "$BATS_TEST_TMPDIR/out") bytes of frames)"
	tsv=$(frame_tsv "$BATS_TEST_TMPDIR/out" 2>/dev/null) || tsv=
}

# messages: the message lines of $tsv, sorted.
messages() {
	grep -v $'^[HE]\t' <<<"$tsv" | sort || true
}

# expected ZONE DATE: the same rows from psql, written independently of
# moma-fetch's query (explicit UTC instants, floor of the epoch).
expected() {
	local next
	next=$(date -u -d "$2 + 1 day" +%F)
	pg_sql -c "SELECT m.id, m.campagne_id_fk, m.numero_abonne,
	    floor(extract(epoch FROM c.valid_start))::bigint,
	    floor(extract(epoch FROM c.valid_end))::bigint,
	    m.template_id, c.ack_delay, c.genre, c.ack_count, m.storables::text
	  FROM messages m, campagnes c
	 WHERE c.id = m.campagne_id_fk AND c.zone_diffusion = $1
	   AND c.valid_start < timestamptz '$next 00:00:00+00'
	   AND c.valid_end >= timestamptz '$2 00:00:00+00'" |
	    jq -R -r "split(\"\\t\") | .[9] |= ($normalize_storables) | @tsv" | sort
}

utc() { date -u -d "$1" +%s; }

@test "usage errors exit 64 and write nothing" {
	for args in "" "--zone 256" "--zone x" "--zone 3 --date 2026-02-30" \
	    "--zone 3 --date 2026-1-05" "--zone 3 --batch 0" "--zone 3 extra" \
	    "--zone 3 --fetch-mode fast" "--zone 3 --bogus" "--zone 3 --date 0000-01-01" \
	    "--zone 3 --date 1858-11-16" "--zone 3 --date 2038-04-23" "--zone 3 --date 9999-12-31"; do
		run_split "$FETCH" $args
		assert_status $EX_USAGE
		[ -z "$output" ]
		[[ $stderr == *"usage: moma-fetch"* ]]
	done
}

@test "--date: the days a DVB UTC_time can carry, checked before connecting" {
	run_split "$FETCH" --zone 3 --date 0000-01-01 -d "host=$BATS_TEST_TMPDIR port=1"
	assert_status $EX_USAGE
	[[ $stderr == "moma-fetch: --date: 0000-01-01: out of range 1858-11-17..2038-04-22 (the days of a DVB UTC_time, 16-bit MJD)"* ]]
	run_split "$FETCH" --zone 3 --date 2026-1-05
	assert_status $EX_USAGE
	[[ $stderr == "moma-fetch: --date: 2026-1-05: not a date YYYY-MM-DD"* ]]
	for d in 1858-11-17 2038-04-22; do
		fetch --zone 15 --date $d
		assert_status 0
		[ "$(tail -n 1 <<<"$tsv")" = "E	0" ]
	done
}

@test "--version names the version, --help the usage and every option" {
	run_split "$FETCH" --version
	assert_status 0
	[[ $output =~ ^moma-fetch\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	run_split "$FETCH" --help
	assert_status 0
	[[ $output == "usage: moma-fetch "* ]]
	for o in -d --date --explain --fetch-mode --help --jobs --query --stats --stats-file --version --zone --zone-name; do
		grep -qE -- "[ ,]$o( |$)" <<<"$output"
	done
	# the help's option list and the man page's agree
	for o in date explain fetch-mode query stats stats-file zone zone-name; do
		grep -q "^\.It Fl -$o" "$TOP/man/moma-fetch.1"
	done
}

@test "the exact set of messages, field by field, for every sample zone" {
	local z d n total=0
	for d in 2026-11-03 2026-11-15; do
		for z in 1 2 3 4; do
			fetch --zone $z --date $d
			assert_status 0
			diff -u <(expected $z $d) <(messages)
			n=$(expected $z $d | wc -l)
			[ "$(tail -n 1 <<<"$tsv")" = "E	$n" ]
			total=$((total + n))
		done
	done
	# The dates select a real subset of the data, not all or nothing.
	[ "$total" -gt 1000 ]
	[ "$total" -lt $(( 2 * 50000 )) ]
}

@test "header: network_id, date, zone name, producer" {
	fetch --zone 3 --date 2026-11-15 --zone-name "Nouvelle-Calédonie"
	assert_status 0
	[ "$(head -n 1 <<<"$tsv")" = "H	1	3	2026-11-15	Nouvelle-Calédonie	moma-fetch $("$FETCH" --version | cut -d' ' -f2)" ]
	fetch --zone 4 --date 2026-11-15
	[ "$(head -n 1 <<<"$tsv" | cut -f 3-5)" = "4	2026-11-15	4" ]
}

@test "the date defaults to today in UTC" {
	fetch --zone 14
	assert_status 0
	[ "$(head -n 1 <<<"$tsv" | cut -f 4)" = "$(date -u +%F)" ]
}

@test "validity boundaries: 23:59:59 that day, 00:00:00 that day, not the day before or after" {
	fetch --zone 10 --date 2026-12-10
	assert_status 0
	[ "$(messages | cut -f 1 | tr '\n' ' ')" = "2000001 2000002 2000005 " ]
	diff -u <(expected 10 2026-12-10) <(messages)
	# Times carried exactly, in Unix seconds.
	[ "$(messages | grep ^2000001 | cut -f 4)" = "$(utc '2026-12-10 23:59:59Z')" ]
	[ "$(messages | grep ^2000002 | cut -f 5)" = "$(utc '2026-12-10 00:00:00Z')" ]
	[ "$(messages | grep ^2000001 | cut -f 3)" = 4294967295 ]
}

@test "the date is a UTC day whatever the session or client time zone" {
	fetch --zone 10 --date 2026-12-10
	local utc_set=$tsv
	PGTZ=Pacific/Noumea PGOPTIONS="-c TimeZone=Pacific/Noumea" fetch --zone 10 --date 2026-12-10
	assert_status 0
	[ "$(messages | cut -f 1 | tr '\n' ' ')" = "2000001 2000002 2000005 " ]
	[ "$(grep -v ^H <<<"$tsv")" = "$(grep -v ^H <<<"$utc_set")" ]
}

@test "a zone with no valid campaign gives a header and a trailer only" {
	for z in 14 15 255; do
		fetch --zone $z --date 2026-12-10
		assert_status 0
		[ "$(wc -l <<<"$tsv")" -eq 2 ]
		[ "$(tail -n 1 <<<"$tsv")" = "E	0" ]
		[[ $(head -n 1 <<<"$tsv") == "H	1	$z	2026-12-10	"* ]]
	done
}

@test "a NULL in a needed column is an error naming the message and column, no trailer" {
	local z col
	for z in 11:numero_abonne 12:storables 13:genre; do
		col=${z#*:} z=${z%:*}
		fetch --zone "$z" --date 2026-12-10
		assert_status $EX_DATAERR
		[[ $stderr == *"moma-fetch: message 20000$z: column $col is NULL"* ]]
		[ -z "$tsv" ]
		run "$DUMP" -t frames "$BATS_TEST_TMPDIR/out"
		[ "$status" -eq $EX_DATAERR ]
	done
}

@test "--reject-log: a row with a NULL or a value out of its field is set aside, one JSON line; --max-reject" {
	local log=$BATS_TEST_TMPDIR/rej.jsonl st=$BATS_TEST_TMPDIR/st j
	# zone 21: four messages, the 2nd with a NULL, the 4th a bad template_id
	# (through a query: the column is an integer here)
	pg_sql -c "INSERT INTO campagnes (id, zone_diffusion, valid_start, valid_end, genre, ack_count, ack_delay)
	    VALUES (1000021, 21, '2026-12-01 00:00:00+00', '2026-12-31 00:00:00+00', 1, 1, 1);
	  INSERT INTO messages (id, campagne_id_fk, numero_abonne, template_id, storables)
	    SELECT 2100000 + g, 1000021, CASE WHEN g = 2 THEN NULL ELSE g END, g, '{\"titre\": \"x\"}'
	      FROM generate_series(1, 4) g" >/dev/null
	cat > "$BATS_TEST_TMPDIR/q.sql" <<-'EOF'
	SELECT m.id, c.id AS campagne_id, m.numero_abonne, c.valid_start, c.valid_end,
	       CASE WHEN m.id = 2100004 THEN 3000000000 ELSE m.template_id END AS template_id,
	       c.ack_delay, c.genre, c.ack_count, m.storables
	  FROM campagnes c JOIN messages m ON m.campagne_id_fk = c.id
	 WHERE c.zone_diffusion = current_setting('moma.zone')::int
	   AND c.valid_start < current_setting('moma.date')::date + 1
	   AND c.valid_end >= current_setting('moma.date')::date
	EOF
	for j in 1 2; do
		fetch --zone 21 --date 2026-12-10 -j $j --query "$BATS_TEST_TMPDIR/q.sql" --reject-log "$log" --stats-file "$st"
		assert_status 0
		[[ $stderr == *"moma-fetch: row 2 (message 2100002): column numero_abonne is NULL (rejected)"* ]]
		[[ $stderr == *"moma-fetch: row 4 (message 2100004): column template_id: 3000000000 out of range -2147483648..2147483647 (a 32-bit field) (rejected)"* ]]
		[ "$(jq -c . "$log")" = '{"id":2100002,"campagne_id":1000021,"stage":"moma-fetch","reason":"column numero_abonne is NULL"}
{"id":2100004,"campagne_id":1000021,"stage":"moma-fetch","reason":"column template_id: 3000000000 out of range -2147483648..2147483647 (a 32-bit field)"}' ]
		# the others, whole, with a trailer that counts them
		[ "$(messages | cut -f 1)" = "2100001
2100003" ]
		[ "$(tail -n 1 <<<"$tsv")" = "E	2" ]
		[ "$(stat_val "$st" rows)" -eq 4 ]
		[ "$(stat_val "$st" frames)" -eq 2 ]
		[ "$(stat_val "$st" rejected)" -eq 2 ]
	done
	# a NULL campaign column: every message of the campaign, campagne_id known
	fetch --zone 13 --date 2026-12-10 --reject-log "$log"
	assert_status 0
	[ "$(jq -c . "$log")" = '{"id":2000013,"campagne_id":1000013,"stage":"moma-fetch","reason":"column genre is NULL"}' ]
	[ "$(tail -n 1 <<<"$tsv")" = "E	0" ]
	# --max-reject 1: the second stops the run, no trailer
	fetch --zone 21 --date 2026-12-10 --query "$BATS_TEST_TMPDIR/q.sql" --reject-log "$log" --max-reject 1 --stats-file "$st"
	assert_status $EX_DATAERR
	[[ $stderr == *"moma-fetch: row 4 (message 2100004): more than 1 rows set aside (--max-reject); stopping"* ]]
	[ -z "$tsv" ]
	[ "$(stat_val "$st" rejected)" -eq 2 ]
	[ "$(wc -l < "$log")" -eq 2 ]
	# an internal error is no bad row: still fatal (a log that cannot be made: 73)
	run_split "$FETCH" --zone 21 --date 2026-12-10 --reject-log /nonexistent/x
	assert_status $EX_CANTCREAT
	pg_sql -c "DELETE FROM messages WHERE campagne_id_fk = 1000021; DELETE FROM campagnes WHERE id = 1000021" >/dev/null
}

@test "times are floored to the second, before 1970 too; infinity is kept" {
	fetch --zone 16 --date 1969-12-31
	assert_status 0
	# jq holds numbers as doubles, so read the 64-bit extremes from
	# moma-dump's JSON text itself (one line per message, any order).
	[ "$(grep '"type":"message"' "$BATS_TEST_TMPDIR/dump.jsonl" |
	     sed -E 's/.*"id":([0-9]+).*"valid_start":("[^"]*"|-?[0-9]+).*"valid_end":("[^"]*"|-?[0-9]+).*/\1 \2 \3/' | sort)" = \
	  '2000016 "1969-12-31T23:59:59Z" 9223372036854775807
2000017 -9223372036854775808 "1970-01-01T00:00:00Z"' ]
	[ "$(messages | cut -f 1,4)" = "2000016	-1
2000017	-9223372036854776000" ]
}

@test "copy (the default) and stream: the same stream, alone and with -j 2" {
	fetch --zone 10 --date 2026-12-10
	local ref
	ref=$(messages)
	[ "$(wc -l <<<"$ref")" -eq 3 ]
	for mode in stream copy; do
		for j in 1 2; do
			fetch --zone 10 --date 2026-12-10 --fetch-mode $mode -j $j
			assert_status 0
			[ "$(messages)" = "$ref" ]
			[ "$(tail -n 1 <<<"$tsv")" = "E	3" ]
		done
	done
	# --batch, which only the cursor modes of 0.1 used, is accepted and ignored
	fetch --zone 20 --date 2026-12-10 --batch 7 --fetch-mode stream
	assert_status 0
	[ "$(tail -n 1 <<<"$tsv")" = "E	30000" ]
	# the cursor modes are gone
	for mode in pipeline single plain; do
		run_split "$FETCH" --zone 10 --fetch-mode $mode
		assert_status $EX_USAGE
		[[ $stderr == *"--fetch-mode: $mode: want copy or stream"* ]]
	done
}

@test "--fetch-mode copy (the default) and stream: the same messages, NULLs, times, --query" {
	local z ref
	for z in 1 3 10 14 16 20; do
		fetch --zone $z --date 2026-12-10 --fetch-mode stream
		ref=$tsv
		fetch --zone $z --date 2026-12-10 --fetch-mode copy
		assert_status 0
		# The header's creation time may tick between the two runs.
		[ "$(grep -v $'^H\t' <<<"$tsv")" = "$(grep -v $'^H\t' <<<"$ref")" ]
	done
	fetch --zone 16 --date 1969-12-31 --fetch-mode copy
	[ "$(messages | cut -f 1,4)" = "2000016	-1
2000017	-9223372036854776000" ]
	for z in 11:numero_abonne 12:storables 13:genre; do
		fetch --zone "${z%:*}" --date 2026-12-10 --fetch-mode copy
		assert_status $EX_DATAERR
		[[ $stderr == *"moma-fetch: message 20000${z%:*}: column ${z#*:} is NULL"* ]]
		run "$DUMP" -t frames "$BATS_TEST_TMPDIR/out"
		[ "$status" -eq $EX_DATAERR ]
	done
	for z in 11:numero_abonne 12:storables 13:genre; do
		fetch --zone "${z%:*}" --date 2026-12-10 --fetch-mode stream
		assert_status $EX_DATAERR
		[[ $stderr == *"moma-fetch: message 20000${z%:*}: column ${z#*:} is NULL"* ]]
	done
	fetch --zone 7 --date 2026-12-10 --query "$FIXTURES/fetch-query.sql" --fetch-mode stream
	ref=$(messages)
	[ "$(wc -l <<<"$ref")" -eq 2 ]
	fetch --zone 7 --date 2026-12-10 --query "$FIXTURES/fetch-query.sql" --fetch-mode copy
	assert_status 0
	[ "$(messages)" = "$ref" ]
	fetch --zone 7 --date 2026-12-10 --query "$FIXTURES/fetch-query.sql" --fetch-mode copy -j 3
	assert_status 0
	[ "$(messages)" = "$ref" ]
}

@test "--query of 0.1 with \$1 and \$2: still runs (bound, in stream mode); \$3 is refused" {
	# The server binds them, so a $1 in a string, a quoted name, a
	# comment or a dollar-quoted string is left alone, as SQL says.
	cat >"$BATS_TEST_TMPDIR/q.sql" <<'EOT'
SELECT ident AS id, camp AS campagne_id, abonne AS numero_abonne,
       debut AS valid_start, fin AS valid_end, modele AS template_id,
       delai AS ack_delay, sorte AS genre, acks AS ack_count,
       contenu AS storables /* not $3 /* nested $4 */ */
  FROM annonces -- nor $5
 WHERE region = $1::int AND '$1' = E'$1' AND $$ $6 $$ = $x$ $6 $x$
   AND "region" IS NOT NULL
   AND debut < $2::date + 1 AND fin >= $2::date
EOT
	for mode in copy stream; do
		for j in 1 2; do
			fetch --zone 7 --date 2026-12-10 --query "$BATS_TEST_TMPDIR/q.sql" --fetch-mode $mode -j $j
			assert_status 0
			[ "$(messages | cut -f 1 | sort | tr '\n' ' ')" = "1 2 " ]
		done
	done
	run_split "$FETCH" --zone 7 --date 2026-12-10 --query "$BATS_TEST_TMPDIR/q.sql" --explain
	assert_status 0
	[[ $output == *"region = 7"* ]]
	echo 'SELECT * FROM annonces WHERE region = $1::int AND $2::date IS NOT NULL AND ident > $3::int' >"$BATS_TEST_TMPDIR/q.sql"
	fetch --zone 7 --date 2026-12-10 --query "$BATS_TEST_TMPDIR/q.sql"
	assert_status $EX_CONFIG
	[[ $stderr == *'query uses $3; moma-fetch binds only $1 (the zone) and $2 (the date)'* ]]
	[ -z "$tsv" ]
}

@test "the zone and the date reach the server as values, never as SQL text" {
	# current_setting() gives the text main checked; with -j the shard too.
	cat >"$BATS_TEST_TMPDIR/q.sql" <<'EOT'
SELECT ident AS id, camp AS campagne_id, abonne AS numero_abonne,
       debut AS valid_start, fin AS valid_end, modele AS template_id,
       delai AS ack_delay, sorte AS genre, acks AS ack_count,
       json_build_object('titre', current_setting('moma.zone') || ' ' ||
           current_setting('moma.date') || ' ' || current_setting('moma.shard') ||
           '/' || current_setting('moma.shards')) AS storables
  FROM annonces
 WHERE region = current_setting('moma.zone')::int
   AND debut < current_setting('moma.date')::date + 1
   AND fin >= current_setting('moma.date')::date
EOT
	fetch --zone 7 --date 2026-12-10 --query "$BATS_TEST_TMPDIR/q.sql"
	assert_status 0
	[ "$(messages | cut -f 1,10)" = '1	{"titre":"7 2026-12-10 0/1"}
2	{"titre":"7 2026-12-10 0/1"}' ]
	fetch --zone 7 --date 2026-12-10 --query "$BATS_TEST_TMPDIR/q.sql" -j 2
	assert_status 0
	[ "$(messages | cut -f 1,10)" = '1	{"titre":"7 2026-12-10 1/2"}
2	{"titre":"7 2026-12-10 0/2"}' ]
}

@test "--query FILE: another schema, other types, the documented columns" {
	fetch --zone 7 --date 2026-12-10 --query "$FIXTURES/fetch-query.sql"
	assert_status 0
	[ "$(messages)" = "1	10	100	$(utc '2026-12-10Z')	$(utc '2026-12-10 23:59:59Z')	3	60	2	1	{\"bip\":true,\"chaine\":2,\"titre\":\"un\"}
2	10	200	$(utc '2026-12-09Z')	$(utc '2026-12-10Z')	4	61	3	2	{\"bip\":false,\"chaine\":3,\"titre\":\"deux\"}" ]
	# From stdin too.
	fetch --zone 7 --date 2026-12-11 --query - <"$FIXTURES/fetch-query.sql"
	[ "$(messages | cut -f 1)" = 3 ]
}

@test "--query: a value out of the frame's range names the message" {
	fetch --zone 8 --date 2026-12-10 --query "$FIXTURES/fetch-query.sql"
	assert_status $EX_DATAERR
	[[ $stderr == *"message 4: column genre: 40000 out of range -32768..32767 (a 16-bit field)"* ]]
	[ -z "$tsv" ]
}

@test "--query: columns that break the contract are refused before any output" {
	printf 'SELECT id, numero_abonne AS campagne_id FROM messages WHERE $1::int > 0 AND $2::date IS NOT NULL' >"$BATS_TEST_TMPDIR/q.sql"
	run_split "$FETCH" --zone 1 --date 2026-12-10 --query "$BATS_TEST_TMPDIR/q.sql"
	assert_status $EX_CONFIG
	[[ $stderr == *"query returns 2 columns"* ]]
	[ -z "$output" ]
	sed 's/AS campagne_id/AS campagne/; s/ident AS id/ident AS id/' "$FIXTURES/fetch-query.sql" >"$BATS_TEST_TMPDIR/q.sql"
	run_split "$FETCH" --zone 7 --date 2026-12-10 --query "$BATS_TEST_TMPDIR/q.sql"
	assert_status $EX_CONFIG
	[[ $stderr == *'query column 2 is "campagne", moma-fetch needs "campagne_id"'* ]]
	sed 's/contenu AS storables/1 AS storables/' "$FIXTURES/fetch-query.sql" >"$BATS_TEST_TMPDIR/q.sql"
	run_split "$FETCH" --zone 7 --date 2026-12-10 --query "$BATS_TEST_TMPDIR/q.sql"
	assert_status $EX_CONFIG
	[[ $stderr == *"query column 10 (storables) has type oid 23"* ]]
	[ -z "$output" ]
}

@test "--query: a missing file is 66, an SQL error 78 with the server's message" {
	run_split "$FETCH" --zone 1 --query "$BATS_TEST_TMPDIR/nope.sql"
	assert_status $EX_NOINPUT
	echo 'SELECT * FROM pas_de_table WHERE $1::int = 1 AND $2::date IS NULL' >"$BATS_TEST_TMPDIR/q.sql"
	run_split "$FETCH" --zone 1 --query "$BATS_TEST_TMPDIR/q.sql"
	assert_status $EX_CONFIG
	[[ $stderr == *'relation "pas_de_table" does not exist'* ]]
	[ -z "$output" ]
}

@test "cannot connect: exit 69 with libpq's message" {
	run_split "$FETCH" --zone 1 -d "host=$BATS_TEST_TMPDIR port=1 connect_timeout=2"
	assert_status $EX_UNAVAILABLE
	[[ $stderr == "moma-fetch: cannot connect: "*"$BATS_TEST_TMPDIR"* ]]
	[ -z "$output" ]
	run_split "$FETCH" --zone 1 -d "nosuchoption=1"
	assert_status $EX_UNAVAILABLE
	[[ $stderr == *'invalid connection option "nosuchoption"'* ]]
	run_split "$FETCH" --zone 1 -d "postgresql:///pas_de_base?host=$PGHOST"
	assert_status $EX_UNAVAILABLE
	[[ $stderr == *'"pas_de_base" does not exist'* ]]
}

@test "-d takes a conninfo or a URI, overriding the PG* variables" {
	PGDATABASE=pas_de_base fetch --zone 10 --date 2026-12-10 -d "dbname=moma"
	assert_status 0
	[ "$(tail -n 1 <<<"$tsv")" = "E	3" ]
	PGDATABASE=pas_de_base fetch --zone 10 --date 2026-12-10 -d "postgresql:///moma?host=$PGHOST&port=$PGPORT"
	assert_status 0
	[ "$(tail -n 1 <<<"$tsv")" = "E	3" ]
}

@test "--explain: the plan uses the foreign-key index for a small zone" {
	run_split "$FETCH" --zone 10 --date 2026-12-10 --explain
	assert_status 0
	[[ $output == *"messages_campagne_id_fk_id_idx"* ]]
	[[ $output != *"MOMAFRM"* ]]
}

# scan_half: a sequential scan of messages stopped halfway, which leaves
# PostgreSQL's synchronized-scan hint there: the next sequential scan of
# the table starts mid-table, not at block 0.
scan_half() {
	# numero_abonne has no index: the cursor's plan is a sequential scan.
	pg_sql -c "BEGIN" -c "DECLARE c NO SCROLL CURSOR FOR SELECT numero_abonne FROM messages" \
	    -c "MOVE 40000 FROM c" -c "COMMIT" >/dev/null
}

@test "the order: (campagne_id, id), the same bytes run after run and whatever -j, scans moved" {
	local zd z d first n
	[ "$(pg_sql -c "SHOW synchronize_seqscans")" = on ]
	for zd in 1:2026-11-15 3:2026-11-15 20:2026-12-10; do
		z=${zd%:*} d=${zd#*:}
		# The setup bites: a plain scan now starts mid-table (ids of the
		# first sample campaigns come later), so without its ORDER BY the
		# stream would come out rotated.  (The hint is advisory: a loaded
		# machine may need the half scan again.)
		for try in 1 2 3 4 5; do
			scan_half
			first=$(pg_sql -c "COPY (SELECT id, numero_abonne FROM messages) TO STDOUT" | head -n 1 | cut -f 1)
			[ "$first" -le 1000 ] || break
		done
		[ "$first" -gt 1000 ]
		SOURCE_DATE_EPOCH=1700000000 fetch --zone $z --date $d
		assert_status 0
		cp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/ref"
		# in (campagne_id, id) order, as psql sorts them
		diff -u <(pg_sql -c "SELECT m.id FROM messages m JOIN campagnes c ON c.id = m.campagne_id_fk
		    WHERE c.zone_diffusion = $z AND c.valid_start < date '$d' + 1 AND c.valid_end >= date '$d'
		    ORDER BY m.campagne_id_fk, m.id") <(grep -v $'^[HE]\t' <<<"$tsv" | cut -f 1)
		n=$(grep -vc $'^[HE]\t' <<<"$tsv")
		[ "$n" -gt 100 ]
		for mode in copy stream; do
			for j in 1 2 3; do
				scan_half
				SOURCE_DATE_EPOCH=1700000000 fetch --zone $z --date $d --fetch-mode $mode -j $j
				assert_status 0
				cmp "$BATS_TEST_TMPDIR/ref" "$BATS_TEST_TMPDIR/out"
			done
		done
	done
}

@test "the carousel does not depend on the header's creation time" {
	SOURCE_DATE_EPOCH=1 "$FETCH" --zone 3 --date 2026-11-15 | "$ENCODE" >"$BATS_TEST_TMPDIR/a.sec"
	SOURCE_DATE_EPOCH=2000000000 "$FETCH" --zone 3 --date 2026-11-15 -j 2 | "$ENCODE" >"$BATS_TEST_TMPDIR/b.sec"
	"$FETCH" --zone 3 --date 2026-11-15 -j 3 --fetch-mode stream | "$ENCODE" >"$BATS_TEST_TMPDIR/c.sec"
	[ -s "$BATS_TEST_TMPDIR/a.sec" ]
	cmp "$BATS_TEST_TMPDIR/a.sec" "$BATS_TEST_TMPDIR/b.sec"
	cmp "$BATS_TEST_TMPDIR/a.sec" "$BATS_TEST_TMPDIR/c.sec"
	# SOURCE_DATE_EPOCH is the header's time, and checked
	SOURCE_DATE_EPOCH=1700000000 fetch --zone 15 --date 2026-11-15
	[ "$(jq -r 'select(.type == "header") | .created' "$BATS_TEST_TMPDIR/dump.jsonl")" = 2023-11-14T22:13:20Z ]
	SOURCE_DATE_EPOCH=soon run_split "$FETCH" --zone 15
	assert_status $EX_USAGE
	[[ $stderr == "moma-fetch: SOURCE_DATE_EPOCH: 'soon' is not a number in 0.."* ]]
}

@test "a --query in another order gets the carousel's order all the same" {
	# The query's own ORDER BY is the reverse; moma-fetch orders by
	# (campagne_id, id) around it.
	cat >"$BATS_TEST_TMPDIR/q.sql" <<'EOT'
SELECT ident AS id, camp AS campagne_id, abonne AS numero_abonne,
       debut AS valid_start, fin AS valid_end, modele AS template_id,
       delai AS ack_delay, sorte AS genre, acks AS ack_count,
       contenu AS storables
  FROM annonces WHERE ident < 4 ORDER BY camp DESC, ident DESC
EOT
	fetch --zone 7 --date 2026-12-10 --query "$BATS_TEST_TMPDIR/q.sql"
	assert_status 0
	[ "$(grep -v $'^[HE]\t' <<<"$tsv" | cut -f 1,2 | tr '\n' ' ')" = "1	10 2	10 3	11 " ]
	fetch --zone 7 --date 2026-12-10 --query "$BATS_TEST_TMPDIR/q.sql" -j 2
	[ "$(grep -v $'^[HE]\t' <<<"$tsv" | cut -f 1,2 | tr '\n' ' ')" = "1	10 2	10 3	11 " ]
}

@test "--stats: one summary line with the row count" {
	fetch --zone 20 --date 2026-12-10 --stats
	assert_status 0
	[[ $stderr =~ ^moma-fetch:\ stats:\ rows=30000\ frames=30000\ .*maxrss_kib=[0-9]+\ rejected=0$ ]]
}

# stat_val FILE KEY: the value of KEY in a --stats-file (exactly one line).
stat_val() {
	[ "$(grep -c "^$2=" "$1")" -eq 1 ] || { echo "$1: not one $2= line" >&2; return 1; }
	sed -n "s/^$2=//p" "$1"
}

@test "--stats-file: the --stats keys one a line, frames = the trailer's count, exit=0" {
	local st=$BATS_TEST_TMPDIR/st
	fetch --zone 20 --date 2026-12-10 --stats --stats-file "$st"
	assert_status 0
	[ "$(cut -d= -f1 "$st" | tr '\n' ' ')" = "rows frames bytes_in bytes_out wall cpu user sys blocked_in blocked_out maxrss_kib rejected exit " ]
	! grep -vE '^[a-z_]+=[0-9]+(\.[0-9]+)?$' "$st"
	# The keys of the --stats line, in its order (its times are taken a moment
	# before the file's, so only the counts below can be compared).
	[ "$(sed 's/^moma-fetch: stats: //; s/=[^ ]*//g' <<<"$stderr")" = "$(grep -v '^exit=' "$st" | cut -d= -f1 | tr '\n' ' ' | sed 's/ $//')" ]
	[ "$(stat_val "$st" rows)" -eq 30000 ]
	[ "$(stat_val "$st" frames)" -eq "$(sed -n 's/^E\t//p' <<<"$tsv")" ]
	[ "$(stat_val "$st" frames)" -eq "$(messages | wc -l)" ]
	[ "$(stat_val "$st" bytes_out)" -eq "$(stat -c %s "$BATS_TEST_TMPDIR/out")" ]
	[ "$(stat_val "$st" bytes_in)" -gt 0 ]
	[ "$(stat_val "$st" exit)" -eq 0 ]
	# -j 2: the same counts
	fetch --zone 20 --date 2026-12-10 -j 2 --stats-file "$st"
	assert_status 0
	[ "$(stat_val "$st" rows)" -eq 30000 ]
	[ "$(stat_val "$st" frames)" -eq 30000 ]
	[ "$(ls "$BATS_TEST_TMPDIR" | grep -c '^st')" -eq 1 ]
}

@test "--stats-file on an error exit: exit=65 or 69, what was counted; uncreatable: 73" {
	local st=$BATS_TEST_TMPDIR/st
	fetch --zone 11 --date 2026-12-10 --stats-file "$st"
	assert_status $EX_DATAERR
	[ "$(stat_val "$st" exit)" -eq $EX_DATAERR ]
	# zone 11's one message is the bad one: received, not written
	[ "$(stat_val "$st" rows)" -eq 1 ]
	[ "$(stat_val "$st" frames)" -eq 0 ]
	[ "$(stat_val "$st" rejected)" -eq 0 ]
	[ "$(stat_val "$st" bytes_out)" -eq "$(stat -c %s "$BATS_TEST_TMPDIR/out")" ]
	run_split "$FETCH" --zone 1 -d "host=$BATS_TEST_TMPDIR port=1 connect_timeout=2" --stats-file "$st"
	assert_status $EX_UNAVAILABLE
	[ "$(stat_val "$st" exit)" -eq $EX_UNAVAILABLE ]
	[ "$(stat_val "$st" rows)" -eq 0 ]
	run_split "$FETCH" --zone 20 --date 2026-12-10 --stats-file "$BATS_TEST_TMPDIR/no/dir/st"
	assert_status $EX_CANTCREAT
	[ -z "$output" ]
	[[ $stderr == "moma-fetch: --stats-file $BATS_TEST_TMPDIR/no/dir/st: No such file or directory" ]]
}

@test "a write error exits 74, never 0" {
	[ -w /dev/full ] || skip "no /dev/full"
	run_split "$FETCH" --zone 20 --date 2026-12-10 -o /dev/null
	assert_status $EX_USAGE
	run bash -c '"$0" --zone 20 --date 2026-12-10 >/dev/full' "$FETCH"
	[ "$status" -eq $EX_IOERR ]
	[[ $output == *"stdout"* ]]
}

# A closed stdout is the first free descriptor: libpq's socket took it,
# the frames went to the server and the run exited 0 with nothing said.
@test "a closed stdout exits 74 naming stdout, before connecting" {
	run bash -c '"$0" --zone 20 --date 2026-12-10 >&-' "$FETCH"
	[ "$status" -eq $EX_IOERR ]
	[ "$output" = "moma-fetch: stdout: Bad file descriptor" ]
	# and with no server at all: the check comes first
	run bash -c 'PGHOST=/nonexistent "$0" --zone 20 --date 2026-12-10 >&-' "$FETCH"
	[ "$status" -eq $EX_IOERR ]
}

@test "sample data: registry keys only, 3 to 6 keys, 150-250 bytes, deterministic" {
	local bad
	bad=$(pg_sql -c "SELECT count(*) FROM messages m,
	    LATERAL (SELECT array_agg(k) AS ks FROM jsonb_object_keys(m.storables) k) s
	  WHERE m.id < 1000000 AND (NOT s.ks <@ ARRAY['titre','texte','signature','code_promo',
	    'url','nom','prenom','civilite','langue','prix','chaine','duree','position',
	    'couleur','priorite','offre','age_min','bip']
	    OR cardinality(s.ks) NOT BETWEEN 3 AND 6)")
	[ "$bad" -eq 0 ]
	[ "$(pg_sql -c "SELECT min(octet_length(storables::text)) >= 130 AND max(octet_length(storables::text)) <= 260 FROM messages WHERE id < 1000000")" = t ]
	local gen=$MOMA_BUILD/gen/moma-gen
	[ "$("$gen" -t messages -n 2000 -s 7 | md5sum)" = "$("$gen" -t messages -n 2000 -s 7 | md5sum)" ]
	[ "$("$gen" -t messages -n 2000 -s 7 | md5sum)" != "$("$gen" -t messages -n 2000 -s 8 | md5sum)" ]
}

# Last: it stops the server (and starts it again for good measure).
@test "-j K: K connections on one snapshot give exactly the messages of -j 1" {
	for z in 1 3 20; do
		fetch --zone $z --date 2026-12-10
		assert_status 0
		local ref
		ref=$(messages)
		for k in 2 3 5; do
			fetch --zone $z --date 2026-12-10 -j $k
			assert_status 0
			[ "$(messages)" = "$ref" ]
			[ "$(tail -n 1 <<<"$tsv")" = "E	$(wc -l <<<"$ref")" ]
		done
	done
	# with a --query too (ids are sharded modulo K, negative ones included)
	fetch --zone 7 --date 2026-12-10 --query "$FIXTURES/fetch-query.sql"
	ref=$(messages)
	fetch --zone 7 --date 2026-12-10 --query "$FIXTURES/fetch-query.sql" -j 2
	assert_status 0
	[ "$(messages)" = "$ref" ]
	for z in 1 20; do
		fetch --zone $z --date 2026-12-10
		ref=$(messages)
		fetch --zone $z --date 2026-12-10 -j 2 --fetch-mode stream
		assert_status 0
		[ "$(messages)" = "$ref" ]
		[ "$(tail -n 1 <<<"$tsv")" = "E	$(wc -l <<<"$ref")" ]
	done
	run_split "$FETCH" --zone 1 -j 17
	assert_status $EX_USAGE
}

@test "-j K: one connection killed mid-stream fails the whole run, no trailer" {
	local mode
	for mode in stream copy; do
		killed_shard "$mode"
	done
}

killed_shard() {
	local fifo=$BATS_TEST_TMPDIR/fifo-$1 out=$BATS_TEST_TMPDIR/cut-$1 st=0
	mkfifo "$fifo"
	"$FETCH" --zone 20 --date 2026-12-10 -j 2 --fetch-mode "$1" >"$fifo" 2>"$BATS_TEST_TMPDIR/err" &
	local pid=$!
	exec 4<"$fifo"
	head -c 100000 <&4 >"$out"
	# moma-fetch now blocks on the full pipe; kill one of its two backends
	[ "$(pg_sql -c "SELECT count(pg_terminate_backend(pid)) FROM (SELECT pid FROM pg_stat_activity
	      WHERE application_name = 'moma-fetch' AND pid <> pg_backend_pid() LIMIT 1) t")" = 1 ]
	cat <&4 >>"$out"
	exec 4<&-
	wait $pid || st=$?
	cat "$BATS_TEST_TMPDIR/err"
	[ "$st" -eq $EX_TEMPFAIL ]
	grep -q "moma-fetch: connection [12] lost\|moma-fetch: .*terminat" "$BATS_TEST_TMPDIR/err"
	run "$DUMP" -t frames "$out"
	[ "$status" -eq $EX_DATAERR ]
	[[ $output == *"truncated stream: no end trailer"* ]]
}

@test "server stopped mid-stream: non-zero exit, no trailer, the encoder refuses it" {
	local fifo=$BATS_TEST_TMPDIR/fifo out=$BATS_TEST_TMPDIR/cut st=0
	mkfifo "$fifo"
	"$FETCH" --zone 20 --date 2026-12-10 --batch 100 >"$fifo" 2>"$BATS_TEST_TMPDIR/err" &
	local pid=$!
	exec 4<"$fifo"
	# Once bytes arrive the stream is under way; moma-fetch then blocks on
	# the full pipe with most of the ~7 MB still in the server.
	head -c 100000 <&4 >"$out"
	[ "$(stat -c %s "$out")" -eq 100000 ]
	"$PG_TOOL" stop "$PG_DIR"
	cat <&4 >>"$out"
	exec 4<&-
	wait $pid || st=$?
	cat "$BATS_TEST_TMPDIR/err"
	[ "$st" -eq $EX_TEMPFAIL ]
	[ "$(stat -c %s "$out")" -lt 7000000 ]
	run "$DUMP" -t frames "$out"
	[ "$status" -eq $EX_DATAERR ]
	[[ $output == *"truncated stream: no end trailer"* ]]
	if [ -x "$ENCODE" ]; then
		run "$ENCODE" <"$out"
		[ "$status" -ne 0 ]
	fi
	"$PG_TOOL" start "$PG_DIR" >/dev/null
}

@test "--campaigns FILE: only those campaigns' messages, the same bytes as the whole zone's for them; bad ids refused" {
	local z=3 d=2026-11-15 ids
	cd "$BATS_TEST_TMPDIR"
	"$FETCH" --zone $z --date $d | "$DUMP" -t frames | jq -c 'select(.type == "message") | del(.frame)' > all.jsonl
	ids=$(jq -r .campagne_id all.jsonl | sort -un | awk 'NR % 3 == 1')
	[ -n "$ids" ]
	echo "$ids" > ids
	for j in 1 2; do
		"$FETCH" --zone $z --date $d --campaigns ids -j $j | "$DUMP" -t frames |
			jq -c 'select(.type == "message") | del(.frame)' > some.jsonl
		jq -c --slurpfile k <(echo "$ids" | jq -s .) 'select(.campagne_id as $c | $k[0] | index($c))' \
			all.jsonl | cmp - some.jsonl
	done
	[ -s some.jsonl ]
	: > none
	"$FETCH" --zone $z --date $d --campaigns none > none.frames
	[ "$("$DUMP" -t frames none.frames | jq -c 'select(.type == "message")' | wc -l)" -eq 0 ]
	printf '12\n1;DROP TABLE x\n' > bad
	run_split "$FETCH" --zone $z --date $d --campaigns bad
	assert_status "$EX_DATAERR"
	[[ $stderr == *"--campaigns bad: line 2: "*"is not a campaign id"* ]]
	run_split "$FETCH" --zone $z --campaigns /nonexistent
	assert_status "$EX_NOINPUT"
}

@test "--snapshot NAME: the rows of that snapshot, not the rows committed since; a bad name is a usage error" {
	local z=3 d=2026-11-15 snap
	cd "$BATS_TEST_TMPDIR"
	run_split "$FETCH" --zone $z --snapshot "1'; DROP TABLE messages; --"
	assert_status "$EX_USAGE"
	"$FETCH" --zone $z --date $d | "$DUMP" -t frames | jq -c 'select(.type == "message")' > before.jsonl
	coproc P { pg_sql; }
	echo "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT pg_export_snapshot();" >&"${P[1]}"
	read -r snap <&"${P[0]}"
	[[ $snap =~ ^[0-9A-F-]+$ ]]
	pg_sql -c "DELETE FROM messages WHERE id = $(head -n 1 before.jsonl | jq .id)" >/dev/null
	for j in 1 2; do
		"$FETCH" --zone $z --date $d --snapshot "$snap" -j $j | "$DUMP" -t frames |
			jq -c 'select(.type == "message")' | cmp - before.jsonl
	done
	"$FETCH" --zone $z --date $d | "$DUMP" -t frames | jq -c 'select(.type == "message")' > after.jsonl
	[ "$(wc -l < after.jsonl)" -eq $(($(wc -l < before.jsonl) - 1)) ]
	echo "COMMIT;" >&"${P[1]}"
	exec {P[1]}>&-
	wait "$P_PID"
	run_split "$FETCH" --zone $z --date $d --snapshot "$snap"
	[ "$status" -ne 0 ]
	[[ $stderr == *"snapshot"* ]]
}
