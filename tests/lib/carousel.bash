# tests/lib/carousel.bash - a carousel against the database it came from,
# message by message (tests/pipeline.bats, tests/multihost.bats).
#
#   diff -u <(db_tsv ZONE DAY [EXCEPT]) <(carousel_tsv FILE)
#
# EXCEPT, a comma-separated list of messages.id, leaves those rows out (the
# rows moma-zone set aside, tests/quarantine.bats).
# db_tsv reads with pg_sql (tests/lib/pg.bash), carousel_tsv with $DUMP.

# The zone's valid messages from the database, one TSV line each, in the
# section's terms; and the same from a carousel through moma-dump.
norm='to_entries | sort_by(.key) | from_entries | tojson'
db_tsv() {
	pg_sql -c "SELECT c.id, m.numero_abonne, m.template_id, c.genre, c.ack_count, c.ack_delay,
	    extract(epoch FROM c.valid_start)::bigint, extract(epoch FROM c.valid_end)::bigint,
	    m.storables::text
	  FROM messages m JOIN campagnes c ON c.id = m.campagne_id_fk
	 WHERE c.zone_diffusion = $1 AND c.valid_start < timestamptz '$2 00:00:00+00' + interval '1 day'
	   AND c.valid_end >= timestamptz '$2 00:00:00+00' ${3:+AND m.id NOT IN ($3)}" |
	    jq -R -r "split(\"\\t\") | .[8] |= (fromjson | $norm) | @tsv" | sort
}
carousel_tsv() {
	"$DUMP" "$1" | jq -r "select(.storables) | [.message_id, .target_filter, .template_id,
	    .genre, .ack_count, .ack_delay, (.valid_start | fromdateiso8601),
	    (.valid_end | fromdateiso8601), (.storables | $norm)] | @tsv" | sort
}
