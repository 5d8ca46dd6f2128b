# tests/lib/pg.bash - a throwaway PostgreSQL cluster for one bats file.
#
#   setup_file()    { pg_start; pg_schema; }
#   teardown_file() { pg_stop; }
#
# pg_start runs scripts/dev/moma-pg in a fresh short directory under /tmp (a
# Unix socket path must stay under 107 bytes, and when the tests run as
# root the server runs as postgres, which cannot enter bats' private
# temporary directories) and exports PGHOST, PGPORT, PGDATABASE, PGUSER, so
# psql and moma-fetch reach it with no further argument.

PG_TOOL=$TOP/scripts/dev/moma-pg

pg_start() {
	local env
	PG_DIR=$(mktemp -d /tmp/moma-pg.XXXXXX)
	export PG_DIR
	env=$("$PG_TOOL" start "$PG_DIR") || {
		echo "# moma-pg start failed; server log:" >&3
		sed 's/^/# /' "$PG_DIR/server.log" "$PG_DIR/initdb.log" >&3 2>/dev/null
		return 1
	}
	eval "$env"
	export PGHOST PGPORT PGDATABASE PGUSER
	unset PGSERVICE PGHOSTADDR PGPASSWORD PGOPTIONS PGTZ
}

pg_stop() {
	[ -n "${PG_DIR:-}" ] || return 0
	"$PG_TOOL" stop "$PG_DIR"
	rm -rf "$PG_DIR"
}

# pg_sql [psql args...]: unaligned, tab-separated, no headers, stop on error.
pg_sql() {
	psql -X -q -v ON_ERROR_STOP=1 -At -F $'\t' "$@"
}

pg_schema() {
	pg_sql -f "$TOP/scripts/schema.sql" >/dev/null
}

# pg_start_standby: a streaming replica (hot standby) of the cluster
# pg_start made, in its own short directory, on its own Unix socket
# (scripts/dev/moma-pg standby: pg_basebackup -R, standby.signal).  Exports
# STANDBY_DIR and STANDBY_PORT; PG* keep naming the primary.  pg_stop_standby
# stops it (pg_ctl, by the PID in its postmaster.pid).
pg_start_standby() {
	STANDBY_DIR=$(mktemp -d /tmp/moma-pgs.XXXXXX)
	export STANDBY_DIR
	"$PG_TOOL" standby "$STANDBY_DIR" "$PG_DIR" >/dev/null || {
		echo "# moma-pg standby failed; logs:" >&3
		sed 's/^/# /' "$STANDBY_DIR/basebackup.log" "$STANDBY_DIR/server.log" "$PG_DIR/server.log" >&3 2>/dev/null
		return 1
	}
	STANDBY_PORT=$(cat "$STANDBY_DIR/port")
	export STANDBY_PORT
}

pg_stop_standby() {
	[ -n "${STANDBY_DIR:-}" ] || return 0
	"$PG_TOOL" stop "$STANDBY_DIR"
	rm -rf "$STANDBY_DIR"
}

# on_standby CMD...: CMD with PG* naming the standby.
on_standby() {
	PGHOST=$STANDBY_DIR PGPORT=$STANDBY_PORT "$@"
}

# pg_standby_caught_up: 0 once the standby has replayed all the WAL the
# primary has inserted so far (poll it with wait_for).  The insert
# position, not pg_current_wal_lsn(): the test cluster runs with
# synchronous_commit=off, so a COMMIT returns before its record is
# written, and the write position can still be short of it.
pg_standby_caught_up() {
	local lsn
	lsn=$(pg_sql -c "SELECT pg_current_wal_insert_lsn()") || return
	[ "$(on_standby pg_sql -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = t ]
}
