# moma-lib.sh - sourced by moma-zone and moma-all: what both need to know
# about the installation, the zones file and the run statuses, and
# moma-zone's metrics writer.  Expects $prog and $here.
# Installed as $PREFIX/lib/moma/moma-lib.sh.

# The statuses a run of moma-zone ends with, the one list: moma-zone's
# summary line and metrics and moma-all's table take them from here, and
# tests/lists.bats holds moma-zone(1), moma-all(1), moma(7) and README.md
# to it.  failed stands for every failed:STAGE.  ok and unchanged are the
# two successes (moma_status_good).
MOMA_STATUSES=(ok unchanged refused:empty refused:shrink refused:rejects failed)

# moma_status_good STATUS: 0 if STATUS is a success (ok or unchanged).
moma_status_good() {
	case $1 in ok|unchanged) return 0 ;; esac
	return 1
}

# moma_bin: the directory of the moma tools (MOMA_BIN, else beside the
# script, else the build tree, else PATH).
moma_bin() {
	if [ -n "${MOMA_BIN:-}" ]; then echo "$MOMA_BIN"
	elif [ -x "$here/moma-fetch" ]; then echo "$here"
	elif [ -x "$here/../build/release/bin/moma-fetch" ]; then (cd "$here/../build/release/bin" && pwd)
	else dirname "$(command -v moma-fetch || echo /usr/local/bin/moma-fetch)"
	fi
}

# moma_zones_file: MOMA_ZONES, else the first of zones.conf beside the
# script, ../etc/moma/zones.conf, /etc/moma/zones.conf; empty if none.
moma_zones_file() {
	local z
	if [ -n "${MOMA_ZONES:-}" ]; then echo "$MOMA_ZONES"; return; fi
	for z in "$here/zones.conf" "$here/../etc/moma/zones.conf" /etc/moma/zones.conf; do
		[ -f "$z" ] && { echo "$z"; return; }
	done
}

# moma_zone_ids FILE: the network_ids of the zones file, one a line.
# Lines are "id name"; # starts a comment.  An id that is not 0-255
# fails with a message naming the line.
moma_zone_ids() {
	awk -v prog="$prog" -v f="$1" '
		/^[ \t]*(#|$)/ { next }
		$1 !~ /^[0-9]+$/ || $1 + 0 > 255 {
			printf "%s: %s:%d: \"%s\" is not a network_id (0-255)\n", prog, f, NR, $1 > "/dev/stderr"
			bad = 1; next
		}
		{ print $1 + 0 }
		END { exit bad }' "$1"
}

# moma_zone_lookup FILE ZONE: print "id name" of ZONE, a network_id or a
# name (any case); fails if the zones file has no such zone.
moma_zone_lookup() {
	awk -v z="$2" '
		/^[ \t]*(#|$)/ || $1 !~ /^[0-9]+$/ || $1 + 0 > 255 { next }
		{ id = $1; $1 = ""; sub(/^[ \t]+/, ""); name = $0 }
		(z ~ /^[0-9]+$/ && id + 0 == z + 0) || tolower(name) == tolower(z) {
			print id + 0, name; found = 1; exit
		}
		END { exit !found }' "$1"
}

# moma_check_date DATE: 0 if DATE is a real YYYY-MM-DD day.
moma_check_date() {
	[[ $1 =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] &&
		[ "$(date -u -d "$1" +%F 2>/dev/null)" = "$1" ]
}

# moma_version: "$prog VERSION", VERSION from the file beside this one
# (scripts/VERSION, installed as $PREFIX/lib/moma/VERSION), which the
# Makefile also builds the tools with.
moma_version() {
	local v=unknown f
	f=$(dirname "${BASH_SOURCE[0]}")/VERSION
	[ -r "$f" ] && read -r v < "$f"
	echo "$prog $v"
}

# moma_metrics FILE ZONE NAME STATUS EXITCODE MESSAGES REJECTED BYTES
#              FETCH_S ENCODE_S PUT_S GUARD_S COMPLETE_S
# moma-zone's node_exporter textfile (moma-zone(1) METRICS) for one run,
# written to FILE.tmp.PID and renamed over FILE; the last success time
# is kept from the FILE it replaces when the run is not a success.  An
# empty BYTES or stage time is written 0.  On a write error: a message,
# the temporary file removed, and 0 all the same (the run's outcome is
# not the metrics').
moma_metrics() {
	local mf=$1 zone=$2 name=$3 status=$4 exitcode=$5 msgs=$6 rejected=$7 bytes=$8
	local fetch_s=$9 encode_s=${10} put_s=${11} guard_s=${12} complete_s=${13}
	local now last_ok lname l s v
	now=$(date +%s)
	last_ok=$(sed -n 's/^moma_zone_last_success_timestamp_seconds{[^}]*} //p' "$mf" 2>/dev/null | head -n 1) || true
	if moma_status_good "$status"; then last_ok=$now; fi
	lname=${name//\\/\\\\}
	lname=${lname//\"/\\\"}
	l="zone=\"$zone\",name=\"$lname\""
	{
		echo "# HELP moma_zone_last_run_timestamp_seconds When moma-zone last ran for the zone."
		echo "# TYPE moma_zone_last_run_timestamp_seconds gauge"
		echo "moma_zone_last_run_timestamp_seconds{$l} $now"
		echo "# HELP moma_zone_last_success_timestamp_seconds When a run last ended ok or unchanged."
		echo "# TYPE moma_zone_last_success_timestamp_seconds gauge"
		echo "moma_zone_last_success_timestamp_seconds{$l} ${last_ok:-0}"
		echo "# HELP moma_zone_status The last run's status (1 for the status it had)."
		echo "# TYPE moma_zone_status gauge"
		for s in "${MOMA_STATUSES[@]}"; do
			v=0
			[ "$s" = "$status" ] || { [ "$s" = failed ] && [[ $status == failed:* ]]; } && v=1
			echo "moma_zone_status{$l,status=\"$s\"} $v"
		done
		echo "# HELP moma_zone_messages Messages in the last run's carousel."
		echo "# TYPE moma_zone_messages gauge"
		echo "moma_zone_messages{$l} $msgs"
		echo "# HELP moma_zone_rejected_messages Rows of the last run set aside (listed in KEY.rejects)."
		echo "# TYPE moma_zone_rejected_messages gauge"
		echo "moma_zone_rejected_messages{$l} $rejected"
		echo "# HELP moma_zone_bytes Bytes of the last run's carousel."
		echo "# TYPE moma_zone_bytes gauge"
		echo "moma_zone_bytes{$l} ${bytes:-0}"
		echo "# HELP moma_zone_stage_seconds Wall seconds of each stage of the last run."
		echo "# TYPE moma_zone_stage_seconds gauge"
		echo "moma_zone_stage_seconds{$l,stage=\"fetch\"} ${fetch_s:-0}"
		echo "moma_zone_stage_seconds{$l,stage=\"encode\"} ${encode_s:-0}"
		echo "moma_zone_stage_seconds{$l,stage=\"put\"} ${put_s:-0}"
		echo "moma_zone_stage_seconds{$l,stage=\"guard\"} $guard_s"
		echo "moma_zone_stage_seconds{$l,stage=\"complete\"} $complete_s"
		echo "# HELP moma_zone_exit_code The last run's exit status."
		echo "# TYPE moma_zone_exit_code gauge"
		echo "moma_zone_exit_code{$l} $exitcode"
	} > "$mf.tmp.$$" && mv -f "$mf.tmp.$$" "$mf" ||
		{ rm -f "$mf.tmp.$$"; echo "$prog: cannot write $mf" >&2; }
}
