# shellcheck shell=bash disable=SC2154,SC2034
# (SC2154, SC2034: the variables are moma-zone's, read and set here.)
# moma-incr.sh - incremental regeneration for moma-zone (moma(7),
# INCREMENTAL REGENERATION; issue 22).  Sourced by moma-zone after its
# configuration; expects $prog $zone $date $url $tmp $bin $version and put().
# Installed as $PREFIX/lib/moma/moma-incr.sh.
#
# With change tracking in the database (scripts/moma-tracking.sql), a run
# reads, in one exported snapshot, the valid campaigns' (id, revision) and
# compares them with the index published beside the carousel (KEY.index):
#   the same list       status=unchanged, no message row read;
#   otherwise           moma-fetch --campaigns reads the new and changed
#                       campaigns only, in that snapshot; moma-splice puts
#                       the others' bytes back from the local copy of the
#                       published carousel (MOMA_CACHE_DIR), in campaign
#                       order.
# Whenever it cannot be sure, the run is a full one and says why
# (incr_why).  KEY.index is a text object:
#   moma-index 1 etag=ETAG bytes=N sections=N messages=N opts=HASH version=V rejected=N
#   campagne_id revision first_byte byte_length messages sections
#   ...
# one line per valid campaign, in id order, those without a message too
# (length 0).  Its etag is the carousel's it describes.

incr_mode=full incr_why='' incr_snap='' incr_reused=0 incr_reused_bytes=0 incr_changed=0
incr_tracked=0 incr_index_ok=0 incr_splice=() incr_fetch=()
incr_cache='' incr_pub_etag=''

# The options a carousel's bytes depend on besides the data.
incr_opts() {
	printf '%s|%s|%s' "$version" "${MOMA_FETCH_OPTS:-}" "${MOMA_ENCODE_OPTS:-}" |
		sha256sum | cut -c1-16
}

# incr_psql_start: psql as a coprocess, in a read-only repeatable-read
# transaction that exports its snapshot ($incr_snap); kept open until
# incr_psql_end, so that moma-fetch --snapshot can join it.
incr_psql_start() {
	local db=() w prev=
	# moma-fetch's -d/--dbname, if MOMA_FETCH_OPTS gives one.
	for w in ${MOMA_FETCH_OPTS:-}; do
		case $prev in -d|--dbname) db=(-d "$w") ;; esac
		case $w in --dbname=*) db=(-d "${w#--dbname=}") ;; esac
		prev=$w
	done
	coproc INCR_PSQL { exec psql -X -q -At -v ON_ERROR_STOP=1 "${db[@]}" 2>"$tmp/psql.err"; }
	# Plain descriptors: a coprocess's are closed in subshells.
	exec {incr_to}>&"${INCR_PSQL[1]}" {incr_from}<&"${INCR_PSQL[0]}"
	# In a subshell: a psql that could not start (not installed, no
	# server) must not SIGPIPE moma-zone; the run is then a full one.
	( echo "SET TimeZone = 'UTC'; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SELECT pg_export_snapshot();" >&"$incr_to" ) 2>/dev/null
	read -r -t 60 incr_snap <&"$incr_from" || incr_snap=
	[[ $incr_snap =~ ^[0-9A-Fa-f-]+$ ]]
}

# incr_psql LINES_END SQL: run SQL in the coprocess, its output up to a
# line "END" on stdout.
incr_psql() {
	local l
	printf '%s\n\\echo END\n' "$1" >&"$incr_to" || return 1
	while read -r -t 600 l <&"$incr_from"; do
		[ "$l" = END ] && return 0
		printf '%s\n' "$l"
	done
	return 1
}

incr_psql_end() {
	local pid=${INCR_PSQL_PID:-} a=${INCR_PSQL[1]:-} b=${INCR_PSQL[0]:-}
	[ -n "$pid" ] || return 0
	# In a subshell: a psql gone (idle_in_transaction_session_timeout
	# after moma-fetch took the snapshot) must not SIGPIPE moma-zone.
	( echo "COMMIT;" 1>&"$incr_to" ) 2>/dev/null || true
	# (exec's own redirections would last: the group's do not.)
	{ exec {incr_to}>&- {incr_from}<&-; } 2>/dev/null || true
	{ [ -z "$a" ] || exec {a}>&- {b}<&-; } 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	INCR_PSQL_PID=
}

# incr_prepare: decide full, incremental or unchanged; set the stages'
# extra arguments (incr_fetch, incr_splice).
incr_prepare() {
	local n opts hdr
	# --ts: moma-splice reads sections, not TS packets: no splice, no
	# index, a full run every time (the next one finds no index).
	case " ${MOMA_ENCODE_OPTS:-} " in *" --ts"*) incr_why=--ts; return 0 ;; esac
	incr_splice=(--index "$tmp/new.idx")
	if [ -n "${MOMA_CACHE_DIR:-}" ]; then
		mkdir -p "$MOMA_CACHE_DIR" 2>/dev/null || true
		incr_cache=$MOMA_CACHE_DIR/$(printf %s "$url" | sha256sum | cut -c1-32)
		incr_splice+=(--copy "$tmp/cache.bin")
	fi
	case " ${MOMA_FETCH_OPTS:-} " in *" --query"*) incr_why=--query; return 0 ;; esac
	# Change tracking: the six triggers, enabled.
	if ! incr_psql_start; then
		incr_why=no-database-snapshot
		incr_psql_end
		return 0
	fi
	n=$(incr_psql "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgenabled IN ('O', 'A')
	  AND tgname IN ('moma_messages_ins', 'moma_messages_upd', 'moma_messages_del',
	                 'moma_messages_trunc', 'moma_campagnes_row', 'moma_campagnes_trunc');") || n=
	if [ "$n" != 6 ]; then
		incr_why=no-change-tracking
		[ -n "$n" ] && [ "$n" -gt 0 ] && incr_why=triggers-disabled
		incr_psql_end
		return 0
	fi
	incr_tracked=1
	incr_fetch=(--snapshot "$incr_snap")
	incr_psql "COPY (SELECT c.id, coalesce(r.revision, 0) FROM campagnes c
	  LEFT JOIN moma_revisions r ON r.campagne_id = c.id
	  WHERE c.zone_diffusion = $zone AND c.valid_start < '$date'::date + 1
	    AND c.valid_end >= '$date'::date ORDER BY c.id) TO STDOUT;" | tr '\t' ' ' > "$tmp/revs" ||
		{ incr_why=revisions-unreadable; incr_tracked=0; incr_fetch=(); incr_psql_end; return 0; }
	[ -n "${incr_force_full:-}" ] && { incr_why=--full; return 0; }
	# The published carousel and its index.
	if ! put --head "$url" > "$tmp/incr.head" 2>/dev/null; then incr_why=nothing-published; return 0; fi
	incr_pub_etag=$(sed -n 's/^etag //p' "$tmp/incr.head")
	if ! put --get "$url.index" > "$tmp/pub.index" 2>/dev/null; then incr_why=no-index; return 0; fi
	opts=$(incr_opts)
	read -r -a hdr < <(head -n 1 "$tmp/pub.index")
	set -- "${hdr[@]}"
	if [ "${1:-}" != moma-index ] || [ "${2:-}" != 1 ]; then incr_why=index-unreadable; return 0; fi
	[ "${3:-}" = "etag=$incr_pub_etag" ] || { incr_why=index-not-of-published-etag; return 0; }
	[ "${7:-}" = "opts=$opts" ] || { incr_why=other-version-or-options; return 0; }
	[ "${9:-}" = rejected=0 ] || { incr_why='published-with-rejects'; return 0; }
	incr_index_ok=1
	# id revision of the index against the snapshot's.
	tail -n +2 "$tmp/pub.index" | awk '{ print $1, $2 }' > "$tmp/pub.revs"
	if cmp -s "$tmp/pub.revs" "$tmp/revs" && ! grep -q ' 0$' "$tmp/revs"; then
		incr_mode=unchanged
		incr_reused=$(wc -l < "$tmp/revs")
		incr_reused_bytes=${4#bytes=}
		return 0
	fi
	# Reuse: the campaigns of the snapshot whose revision the index has.
	awk 'NR == FNR { rev[$1] = $2; next }
	     FNR > 1 && ($1 in rev) && rev[$1] == $2 && $2 != 0 && $4 > 0 { print $1, $3, $4, $5, $6 }' \
		"$tmp/revs" "$tmp/pub.index" > "$tmp/plan"
	awk 'NR == FNR { if (FNR > 1) rev[$1] = $2; next }
	     !(($1 in rev) && rev[$1] == $2 && $2 != 0) { print $1 }' \
		"$tmp/pub.index" "$tmp/revs" > "$tmp/changed.ids"
	incr_changed=$(wc -l < "$tmp/changed.ids")
	if [ -s "$tmp/plan" ]; then
		if [ -z "$incr_cache" ]; then incr_why=no-local-copy:MOMA_CACHE_DIR; return 0; fi
		if [ "$(cat "$incr_cache.etag" 2>/dev/null)" != "$incr_pub_etag" ] ||
		    [ "$(stat -c %s "$incr_cache.bin" 2>/dev/null)" != "${4#bytes=}" ]; then
			incr_why=local-copy-not-of-published-etag
			return 0
		fi
		incr_splice+=(--reuse "$tmp/plan" --from "$incr_cache.bin")
	fi
	incr_mode=incremental incr_why=
	incr_fetch+=(--campaigns "$tmp/changed.ids")
	incr_reused=$(wc -l < "$tmp/plan")
	incr_reused_bytes=$(awk '{ s += $3 } END { printf "%.0f\n", s }' "$tmp/plan")
}

# incr_after: after the stages, the transaction ends; the messages of the
# new carousel are the index's.
incr_after() {
	incr_psql_end
	[ -s "$tmp/new.idx" ] && msgs=$(awk '{ s += $4 } END { printf "%.0f\n", s }' "$tmp/new.idx")
	return 0
}

# incr_unchanged: the summary's values when nothing was read.
incr_unchanged() {
	local hdr
	read -r -a hdr < <(head -n 1 "$tmp/pub.index")
	set -- "${hdr[@]}"
	status=unchanged rows=0 sections=${5#sections=} msgs=${6#messages=} published=$msgs
	rejected=0 etag=$incr_pub_etag new_bytes=${4#bytes=}
	echo "$prog: zone $zone ($name) $date: the same campaigns at the same revisions as the published carousel; nothing read, nothing to do" >&2
}

# incr_publish ETAG BYTES SECTIONS: after a carousel was completed (or
# found the same as the published one), its index beside it and the
# local copy.
incr_publish() {
	local e=$1
	if [ "$incr_tracked" = 1 ] && [ -f "$tmp/new.idx" ]; then
		{
			echo "moma-index 1 etag=$e bytes=$2 sections=$3 messages=$msgs opts=$(incr_opts) version=$version rejected=$rejected"
			# Every valid campaign with its revision; its place and size,
			# 0 bytes where it has no message (at the next one's place).
			# Positions are kept as the strings read: mawk writes a
			# computed number past 2^31 as 7.33549e+09.
			awk 'NR == FNR { idx[$1] = $2 " " $3 " " $4 " " $5; next }
			     { rows[++n] = $0; id[n] = $1 }
			     END {
				 pos = bytes
				 for (i = n; i >= 1; i--) {
					 if (id[i] in idx) { split(idx[id[i]], f, " "); pos = f[1]; line[i] = idx[id[i]] }
					 else line[i] = pos " 0 0 0"
				 }
				 for (i = 1; i <= n; i++) print rows[i], line[i]
			     }' bytes="$2" "$tmp/new.idx" "$tmp/revs"
		} > "$tmp/index.out"
		put --meta "moma-etag=$e" --meta "moma-zone=$zone" "$url.index" < "$tmp/index.out" >&2 ||
			echo "$prog: zone $zone: published, but writing $url.index failed: the next run is a full one" >&2
	fi
	if [ -n "$incr_cache" ] && [ -f "$tmp/cache.bin" ]; then
		# The ETag goes first and comes back last: a copy cut short
		# (another file system, a crash) is never taken for the carousel.
		rm -f "$incr_cache.etag"
		mv -f "$tmp/cache.bin" "$incr_cache.bin" && printf '%s\n' "$e" > "$incr_cache.etag" ||
			rm -f "$incr_cache.etag"
	fi
}

# incr_fields: the summary line's fields about it.
incr_fields() {
	printf 'mode=%s%s reused=%s/%s changed=%s' "$incr_mode" "${incr_why:+:$incr_why}" \
		"$incr_reused" "$incr_reused_bytes" "$([ "$incr_mode" = full ] && echo all || echo "$incr_changed")"
}

# incr_plan_report: --plan.  What a run would change against the published
# carousel, from the index and the snapshot's revisions, with the message
# counts of the campaigns it would read (counted in the snapshot, by the
# index on messages (campagne_id_fk, id)).  Reads no message and
# publishes nothing.  Exit 0.
incr_plan_report() {
	local ids
	echo "zone=$zone name=${name// /_} date=$date key=$url $(incr_fields)"
	if [ "$incr_mode" = full ] && [ "$incr_index_ok" != 1 ]; then
		echo "full: ${incr_why:-?}: no campaign-by-campaign comparison"
		incr_psql_end
		return 0
	fi
	# New and changed campaigns: their message counts now.
	: > "$tmp/counts"
	awk 'NR == FNR { if (FNR > 1) rev[$1] = $2; next }
	     !(($1 in rev) && rev[$1] == $2 && $2 != 0) { print $1 }' "$tmp/pub.index" "$tmp/revs" > "$tmp/read.ids"
	if [ -s "$tmp/read.ids" ]; then
		ids=$(paste -sd, "$tmp/read.ids")
		incr_psql "COPY (SELECT campagne_id_fk, count(*) FROM messages
		  WHERE campagne_id_fk = ANY ('{$ids}'::bigint[]) GROUP BY 1) TO STDOUT;" |
			tr '\t' ' ' > "$tmp/counts" || { echo "$prog: zone $zone: cannot count messages" >&2; incr_psql_end; return 70; }
	fi
	incr_psql_end
	awk 'FILENAME == ARGV[1] { n[$1] = $2; next }
	     FILENAME == ARGV[2] { if (FNR > 1) { rev[$1] = $2; old[$1] = $5 } next }
	     { now[$1] = $2
	       if (!($1 in rev)) { print "added", $1, "messages=" (n[$1] + 0); a++ }
	       else if (rev[$1] != $2 || $2 == 0) { print "changed", $1, "messages=" old[$1] "->" (n[$1] + 0); c++ }
	       else { u++; um += old[$1] } }
	     END {
		 for (k in rev) if (!(k in now)) { print "removed", k, "messages=" old[k]; r++ }
		 printf "summary added=%d removed=%d changed=%d unchanged=%d unchanged_messages=%.0f\n", a, r, c, u, um
	     }' "$tmp/counts" "$tmp/pub.index" "$tmp/revs"
	return 0
}
