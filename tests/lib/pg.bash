# tests/lib/pg.bash - a throwaway PostgreSQL cluster for one bats file.
#
#   setup_file()    { pg_start; pg_schema; }
#   teardown_file() { pg_stop; }
#
# pg_start runs scripts/moma-pg in a fresh short directory under /tmp (a
# Unix socket path must stay under 107 bytes, and when the tests run as
# root the server runs as postgres, which cannot enter bats' private
# temporary directories) and exports PGHOST, PGPORT, PGDATABASE, PGUSER, so
# psql and moma-fetch reach it with no further argument.

PG_TOOL=$TOP/scripts/moma-pg

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
