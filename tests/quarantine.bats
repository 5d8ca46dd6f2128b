#!/usr/bin/env bats
# The quarantine (issue 23): moma-zone sets aside the rows moma-fetch or
# moma-encode rejects, up to MOMA_MAX_REJECT (and MOMA_MAX_REJECT_PCT of the
# zone), publishes the carousel without them and lists them in KEY.rejects;
# above the cap it refuses (exit 65) and the published objects stay.
#
# One PostgreSQL and one S3 server for the file; zone 8 holds one campaign
# of N messages, and each test spoils some of them in one way.  The carousel
# is compared with the database minus exactly the spoiled rows, message by
# message (tests/lib/carousel.bash).

load helpers
load lib/pg
load lib/s3
load lib/carousel

DAY=2026-11-15
N=40
ZONE_CMD=$TOP/scripts/moma-zone
KEY=8/$DAY/carousel.bin

setup_file() {
	pg_start
	pg_schema
	# template_id as bigint, as some operators have it: a value beyond the
	# frame's 32-bit field is then moma-fetch's to reject, not the
	# database's.
	pg_sql -c "ALTER TABLE messages ALTER template_id TYPE bigint" >/dev/null
	s3_start
	s3_mb carousels
}

teardown_file() {
	s3_stop || true
	pg_stop
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	printf '8 Quarantaine\n' > zones
	export MOMA_ZONES=$PWD/zones MOMA_BIN=$BIN MOMA_BUCKET=carousels
	export MOMA_KEY="{zone}/{date}/carousel.bin" MOMA_MAX_REJECT=3 MOMA_MAX_REJECT_PCT=100
	unset MOMA_FETCH_OPTS MOMA_ENCODE_OPTS MOMA_PUT_OPTS MOMA_FORCE MOMA_METRICS_DIR
	reset_zone
}

# reset_zone: zone 8, one campaign (800001) valid on DAY, N good messages
# 80000001..800000N.
reset_zone() {
	pg_sql -c "DELETE FROM messages WHERE campagne_id_fk IN (SELECT id FROM campagnes WHERE zone_diffusion = 8);
	  DELETE FROM campagnes WHERE zone_diffusion = 8;
	  INSERT INTO campagnes (id, zone_diffusion, valid_start, valid_end, genre, ack_count, ack_delay)
	    VALUES (800001, 8, '$DAY', timestamptz '$DAY' + interval '2 days', 1, 1, 10);
	  INSERT INTO messages (id, campagne_id_fk, numero_abonne, template_id, storables)
	    SELECT 80000000 + g, 800001, g, 1, jsonb_build_object('titre', 'Offre ' || g, 'prix', g)
	      FROM generate_series(1, $N) g" >/dev/null
}

# spoil KIND ID: make message ID bad in one of the ways a stage rejects.
spoil() {
	local set
	case $1 in
	type)       set="storables = '{\"titre\": 12}'" ;;
	key)        set="storables = '{\"titre\": \"x\", \"inconnu\": \"y\"}'" ;;
	text)       set="storables = jsonb_build_object('titre', repeat('é', 128))" ;;
	number)     set="storables = '{\"titre\": \"x\", \"prix\": 4294967296}'" ;;
	subscriber) set="numero_abonne = 4294967296" ;;
	template)   set="template_id = 3000000000" ;;
	null)       set="storables = NULL" ;;
	date)       # its own campaign, valid on DAY but ending past the DVB range
		pg_sql -c "INSERT INTO campagnes (id, zone_diffusion, valid_start, valid_end, genre, ack_count, ack_delay)
		    VALUES ($2 - 80000000 + 810000, 8, '$DAY', '2040-01-01', 1, 1, 10)" >/dev/null
		set="campagne_id_fk = $2 - 80000000 + 810000" ;;
	esac
	pg_sql -c "UPDATE messages SET $set WHERE id = $2" >/dev/null
}

# spoil_n KIND K: spoil K messages (every 7th from 80000005); sets $bad, the
# ids, comma-separated.
spoil_n() {
	local i id
	bad=
	for i in $(seq 0 $(($2 - 1))); do
		id=$((80000005 + 7 * i))
		spoil "$1" "$id"
		bad=${bad:+$bad,}$id
	done
}

# The rejects object of zone 8, as "id campagne_id stage" lines, sorted,
# and what the database says they should be.
rejects_got() { jq -r '"\(.id) \(.campagne_id) \(.stage)"' "$1" | sort; }
rejects_want() {
	pg_sql -F ' ' -c "SELECT id, campagne_id_fk, '$2' FROM messages WHERE id IN ($1)" | sort
}
meta_of() {   # meta_of OBJECT NAME: its x-amz-meta-moma-NAME
	"$PUT" --head "s3://carousels/$1" | sed -n "s/^meta-moma-$2 //p"
}

# published_without KIND STAGE REASON K: the run with K rows spoiled
# published the carousel of the N - K others, and KEY.rejects lists exactly
# the K, with STAGE and a reason matching REASON (a glob).
published_without() {
	local n=$4
	run_split "$ZONE_CMD" 8 "$DAY"
	assert_status 0
	[[ "$output" == "zone=8 name=Quarantaine date=$DAY status=ok rows=$N sections=$((N - n)) "*" rejected=$n "* ]] ||
		{ echo "summary: $output" >&2; false; }
	[[ "$stderr" == *"$n of $N rows set aside"*"s3://carousels/$KEY.rejects"* ]]
	s3_get carousels "$KEY" got.bin
	diff -u <(db_tsv 8 "$DAY" "$bad") <(carousel_tsv got.bin)
	[ "$(db_tsv 8 "$DAY" "$bad" | wc -l)" -eq $((N - n)) ]
	s3_get carousels "$KEY.rejects" rejects.jsonl
	diff -u <(rejects_want "$bad" "$2") <(rejects_got rejects.jsonl)
	[ "$(wc -l < rejects.jsonl)" -eq "$n" ]
	while read -r why; do
		[[ "$why" == $3 ]] || { echo "reason: $why, want $3" >&2; false; }
	done < <(jq -r .reason rejects.jsonl)
	# each rejected row is also named on stderr
	for id in ${bad//,/ }; do [[ "$stderr" == *"(message $id): "*"(rejected)"* ]]; done
	[ "$(meta_of "$KEY.moma" rejected)" = "$n" ]
	[ "$(meta_of "$KEY.moma" messages)" = $((N - n)) ]
	[ "$(meta_of "$KEY.rejects" etag)" = "$(s3_etag carousels "$KEY")" ]
	[ "$(s3_uploads carousels)" -eq 0 ]
}

# refused_above_cap KIND STAGE: with 4 rows spoiled (the cap is 3) the run
# is refused and the carousel, its rejects and its sidecar stay as the
# previous run left them.
refused_above_cap() {
	for o in "$KEY" "$KEY.rejects" "$KEY.moma"; do
		s3_get carousels "$o" "before.${o##*.}"
	done
	etag_before=$(s3_etag carousels "$KEY")
	reset_zone
	spoil_n "$1" 4
	run_split "$ZONE_CMD" 8 "$DAY"
	assert_status $EX_DATAERR
	[[ "$output" == "zone=8 name=Quarantaine date=$DAY status=refused:rejects rows="*" rejected=4 "* ]] ||
		{ echo "summary: $output" >&2; false; }
	[[ "$stderr" == *"$2: "*"more than 3 "*"(--max-reject); stopping"* ]]
	[[ "$stderr" == *"refused:rejects: more than 3 rows set aside, above the cap (MOMA_MAX_REJECT=3, MOMA_MAX_REJECT_PCT=100); the first: message 80000005 ($2); nothing published"* ]]
	for o in "$KEY" "$KEY.rejects" "$KEY.moma"; do
		s3_get carousels "$o" after
		cmp "before.${o##*.}" after
	done
	[ "$(s3_etag carousels "$KEY")" = "$etag_before" ]
	[ "$(s3_uploads carousels)" -eq 0 ]
}

# kind KIND STAGE REASON: 1 bad row, exactly the cap (3), the cap + 1.
kind() {
	spoil_n "$1" 1
	published_without "$1" "$2" "$3" 1
	reset_zone
	spoil_n "$1" 3
	published_without "$1" "$2" "$3" 3
	refused_above_cap "$1" "$2"
}

@test "wrong JSON type in storables: set aside up to the cap, refused above" {
	kind type moma-encode 'storables: key "titre": expected a string'
}

@test "unknown key in storables: set aside up to the cap, refused above" {
	kind key moma-encode 'storables: unknown key "inconnu"'
}

@test "text over its limit: set aside up to the cap, refused above" {
	kind text moma-encode 'storables: key "titre": text of 256 bytes*254*'
}

@test "a number outside its field (storables): set aside up to the cap, refused above" {
	kind number moma-encode 'storables: key "prix": *4294967296*'
}

@test "a number outside its field (template_id, moma-fetch): set aside up to the cap, refused above" {
	kind template moma-fetch 'column template_id: 3000000000 out of range -2147483648..2147483647 (a 32-bit field)'
}

@test "a date outside its field: set aside up to the cap, refused above" {
	kind date moma-encode 'valid_end 2040-01-01T00:00:00Z out of range 1858-11-17..2038-04-22*'
}

@test "a subscriber number out of range: set aside up to the cap, refused above" {
	kind subscriber moma-encode 'numero_abonne 4294967296 out of range 0..4294967295'
}

@test "a NULL column (moma-fetch): set aside up to the cap, refused above" {
	kind null moma-fetch 'column storables is NULL'
}

@test "the cap counts both stages together: 2 set aside by moma-fetch + 2 by moma-encode is above 3" {
	spoil template 80000003
	spoil template 80000013
	spoil type 80000023
	spoil key 80000033
	bad=80000003,80000013,80000023,80000033
	run_split "$ZONE_CMD" 8 "$DAY"
	assert_status $EX_DATAERR
	[[ "$output" == *" status=refused:rejects rows=$N "*" rejected=4 "* ]]
	[[ "$stderr" == *"refused:rejects: 4 of $N rows set aside, above the cap (MOMA_MAX_REJECT=3, "* ]]
	[ "$(s3_uploads carousels)" -eq 0 ]
	# at 4 it is published, the list in the order the stages met them
	MOMA_MAX_REJECT=4 run_split "$ZONE_CMD" 8 "$DAY"
	assert_status 0
	[[ "$output" == *" status=ok rows=$N sections=$((N - 4)) "*" rejected=4 "* ]]
	s3_get carousels "$KEY.rejects" rejects.jsonl
	[ "$(jq -r '"\(.id) \(.stage)"' rejects.jsonl)" = "80000003 moma-fetch
80000013 moma-fetch
80000023 moma-encode
80000033 moma-encode" ]
	s3_get carousels "$KEY" got.bin
	diff -u <(db_tsv 8 "$DAY" "$bad") <(carousel_tsv got.bin)
}

@test "the share: MOMA_MAX_REJECT_PCT=5 of 40 rows lets 2 through, refuses 3" {
	export MOMA_MAX_REJECT=1000 MOMA_MAX_REJECT_PCT=5
	spoil_n subscriber 2
	run_split "$ZONE_CMD" 8 "$DAY"
	assert_status 0
	[[ "$output" == *" status=ok rows=$N sections=$((N - 2)) "*" rejected=2 "* ]]
	s3_get carousels "$KEY" before.bin
	spoil_n subscriber 3
	run_split "$ZONE_CMD" 8 "$DAY"
	assert_status $EX_DATAERR
	[[ "$output" == *" status=refused:rejects rows=$N "*" rejected=3 "* ]]
	[[ "$stderr" == *"refused:rejects: 3 of $N rows set aside, above the cap (MOMA_MAX_REJECT=1000, MOMA_MAX_REJECT_PCT=5); the first: message 80000005 (moma-encode); nothing published"* ]]
	s3_get carousels "$KEY" after.bin
	cmp before.bin after.bin
	[ "$(s3_uploads carousels)" -eq 0 ]
	# bad settings are usage errors
	MOMA_MAX_REJECT_PCT=101 run_split "$ZONE_CMD" 8 "$DAY"
	assert_status $EX_USAGE
	[[ "$stderr" == *"MOMA_MAX_REJECT_PCT '101' is not a percentage (0-100)"* ]]
	MOMA_MAX_REJECT=-1 run_split "$ZONE_CMD" 8 "$DAY"
	assert_status $EX_USAGE
	[[ "$stderr" == *"MOMA_MAX_REJECT '-1' is not a count"* ]]
	# --help tells of both
	run_split "$ZONE_CMD" --help
	assert_status 0
	[[ "$output" == *"MOMA_MAX_REJECT "*"MOMA_MAX_REJECT_PCT "*"rejected=N"* ]]
}

@test "strict again: MOMA_MAX_REJECT=0 fails at the first bad row as before, nothing published" {
	run_split "$ZONE_CMD" 8 "$DAY"
	assert_status 0
	s3_get carousels "$KEY" before.bin
	for k in type template; do
		reset_zone
		spoil "$k" 80000009
		MOMA_MAX_REJECT=0 run_split "$ZONE_CMD" 8 "$DAY"
		assert_status $EX_DATAERR
		case $k in
		type)
			[[ "$output" == *" status=failed:moma-encode "*" rejected=0 "* ]]
			[[ "$stderr" == *'moma-encode: frame 9 (message 80000009): storables: key "titre": expected a string'$'\n'* ]] ;;
		template)
			[[ "$output" == *" status=failed:moma-fetch "*" rejected=0 "* ]]
			[[ "$stderr" == *"moma-fetch: message 80000009: column template_id: 3000000000 out of range"* ]] ;;
		esac
		[[ "$stderr" != *"(rejected)"* ]]
		s3_get carousels "$KEY" after.bin
		cmp before.bin after.bin
		[ "$(s3_uploads carousels)" -eq 0 ]
	done
}

@test "metrics and sidecar: moma_zone_rejected_messages; a row fixed by deleting it empties the list" {
	mkdir metrics
	export MOMA_METRICS_DIR=$PWD/metrics
	spoil_n number 2
	run_split "$ZONE_CMD" 8 "$DAY"
	assert_status 0
	f=metrics/moma_zone_8.prom
	promtool check metrics < "$f"
	grep -qx 'moma_zone_rejected_messages{zone="8",name="Quarantaine"} 2' "$f"
	grep -qx "moma_zone_messages{zone=\"8\",name=\"Quarantaine\"} $((N - 2))" "$f"
	grep -qx 'moma_zone_status{zone="8",name="Quarantaine",status="ok"} 1' "$f"
	[ "$(meta_of "$KEY.moma" rejected)" = 2 ]
	s3_get carousels "$KEY.rejects" rejects.jsonl
	[ "$(wc -l < rejects.jsonl)" -eq 2 ]
	lm=$("$PUT" --head "s3://carousels/$KEY" | sed -n 's/^last-modified //p')
	# The operator deletes the bad rows: the carousel is the same bytes
	# (unchanged, not republished) but the list and the sidecar follow.
	pg_sql -c "DELETE FROM messages WHERE id IN ($bad)" >/dev/null
	sleep 1.1
	run_split "$ZONE_CMD" 8 "$DAY"
	assert_status 0
	[[ "$output" == *" status=unchanged rows=$((N - 2)) "*" rejected=0 "* ]]
	[ "$("$PUT" --head "s3://carousels/$KEY" | sed -n 's/^last-modified //p')" = "$lm" ]
	s3_get carousels "$KEY.rejects" rejects.jsonl
	[ ! -s rejects.jsonl ]
	[ "$(meta_of "$KEY.moma" rejected)" = 0 ]
	[ "$(meta_of "$KEY.moma" messages)" = $((N - 2)) ]
	[ "$(meta_of "$KEY.moma" etag)" = "$(s3_etag carousels "$KEY")" ]
	grep -qx 'moma_zone_rejected_messages{zone="8",name="Quarantaine"} 0' "$f"
	# above the cap: the metrics say so
	reset_zone
	spoil_n key 4
	run_split "$ZONE_CMD" 8 "$DAY"
	assert_status $EX_DATAERR
	promtool check metrics < "$f"
	grep -qx 'moma_zone_status{zone="8",name="Quarantaine",status="refused:rejects"} 1' "$f"
	grep -qx 'moma_zone_rejected_messages{zone="8",name="Quarantaine"} 4' "$f"
	grep -qx 'moma_zone_exit_code{zone="8",name="Quarantaine"} 65' "$f"
	# a stage that stopped early may leave the rows unknown: never a negative count
	grep -Eq '^moma_zone_messages\{zone="8",name="Quarantaine"\} [0-9]+$' "$f"
}

@test "the list cannot be written: the carousel stays published, a warning, and the next run writes it" {
	spoil_n type 1
	run_split "$ZONE_CMD" 8 "$DAY"
	assert_status 0
	reset_zone
	spoil_n type 2
	mkdir bin
	for t in moma-fetch moma-encode moma-splice moma-dump; do ln -s "$BIN/$t" bin/$t; done
	printf '#!/usr/bin/env bash\nfor a in "$@"; do case $a in *.rejects) echo "moma-put: injected failure" >&2; exit 75 ;; esac; done\nexec %s "$@"\n' "$PUT" > bin/moma-put
	chmod +x bin/moma-put
	MOMA_BIN=$PWD/bin run_split "$ZONE_CMD" 8 "$DAY"
	assert_status 0
	[[ "$output" == *" status=ok rows=$N sections=$((N - 2)) "*" rejected=2 "* ]]
	[[ "$stderr" == *"writing s3://carousels/$KEY.rejects failed: its list of set-aside rows is stale"* ]]
	s3_get carousels "$KEY" got.bin
	diff -u <(db_tsv 8 "$DAY" "$bad") <(carousel_tsv got.bin)
	# the old list (one row), which the sidecar does not vouch for
	s3_get carousels "$KEY.rejects" rejects.jsonl
	[ "$(wc -l < rejects.jsonl)" -eq 1 ]
	[ "$(meta_of "$KEY.rejects" etag)" != "$(s3_etag carousels "$KEY")" ]
	[ "$(meta_of "$KEY.moma" rejects-sha256)" = unwritten ]
	# the next run: same carousel, the list written
	run_split "$ZONE_CMD" 8 "$DAY"
	assert_status 0
	[[ "$output" == *" status=unchanged "*" rejected=2 "* ]]
	s3_get carousels "$KEY.rejects" rejects.jsonl
	diff -u <(rejects_want "$bad" moma-encode) <(rejects_got rejects.jsonl)
	[ "$(meta_of "$KEY.rejects" etag)" = "$(s3_etag carousels "$KEY")" ]
	[ "$(meta_of "$KEY.moma" rejects-sha256)" = "$(sha256sum < rejects.jsonl | cut -c1-64)" ]
}
