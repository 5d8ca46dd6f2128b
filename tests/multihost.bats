#!/usr/bin/env bats
# moma-all over real ssh hosts (issue 16): two machines made as network
# namespaces on this one (tests/lib/hosts.bash), each with Debian's sshd
# on its own address of a private /24 and a user of its own, whose own
# ~/.pgpass and ~/.aws/credentials hold the secrets.  moma is installed
# with `make install` into a prefix on their PATH; PostgreSQL (a password
# role, moma(7)'s read-only one) and the S3 server listen on the /24's
# .1, this machine's side.  Here, the operator's environment holds the
# same secrets, as it would: they must reach no command line, on either
# side, and the hosts must not need them.

load helpers
load lib/pg
load lib/s3
load lib/carousel
load lib/hosts

DAY=2026-11-15

setup_file() {
	hosts_can || { [ $? -eq 1 ] && return 0; return 1; }   # as a user: the tests skip, saying why
	hosts_up 2
	make -s -C "$TOP" install PREFIX="$HOSTS_DIR/prefix" >/dev/null
	pg_start
	MOMA_BUILD=$MOMA_BUILD "$TOP/scripts/dev/moma-sample" -n 20000 -c 300 -s 3 2>/dev/null
	PG_SECRET=pg-$(openssl rand -hex 16)
	S3_SECRET=s3-$(openssl rand -hex 16)
	export PG_SECRET S3_SECRET
	# moma(7)'s role as the guide prints it, with a password; over TCP on
	# the /24 only, by password
	sed -n '/^CREATE ROLE moma_reader/,/^\.Ed/p' "$TOP/man/moma.7" | sed '$d' |
		sed "s/PASSWORD '\.\.\.'/PASSWORD '$PG_SECRET'/" > "$HOSTS_DIR/role.sql"
	pg_sql -f "$HOSTS_DIR/role.sql" >/dev/null
	pg_sql -c "ALTER SYSTEM SET listen_addresses = '$HOSTS_ADDR'" >/dev/null
	echo "host moma moma_reader $HOSTS_NET.0/24 scram-sha-256" >> "$PG_DIR/data/pg_hba.conf"
	"$PG_TOOL" stop "$PG_DIR" && "$PG_TOOL" start "$PG_DIR" >/dev/null
	MOMA_S3_ADDR=$HOSTS_ADDR MOMA_S3_SECRET=$S3_SECRET s3_start
	s3_mb carousels
	local i
	for i in 1 2; do
		echo "$HOSTS_ADDR:$PGPORT:moma:moma_reader:$PG_SECRET" | host_home $i .pgpass 600
		printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
			"$AWS_ACCESS_KEY_ID" "$S3_SECRET" | host_home $i .aws/credentials 600
	done
	# What cmdlines must not hold: each secret as it is, in hex (how
	# parallel --env carries values) and in base64.
	for s in "$PG_SECRET" "$S3_SECRET"; do
		printf '%s\n' "$s"
		printf '%s' "$s" | xxd -p | tr -d '\n'; echo
		printf '%s' "$s" | xxd -p | tr -d '\n' | tr a-f A-F; echo
		printf '%s' "$s" | base64 -w0; echo
	done > "$HOSTS_DIR/secrets"
}

teardown_file() {
	hosts_down
	s3_stop || true
	pg_stop
}

setup() {
	hosts_can || { [ $? -eq 1 ] && skip "$HOSTS_WHY"; false; }
	cd "$BATS_TEST_TMPDIR"
	# the operator's environment: the database and S3 over the /24, with
	# the secrets in it
	export PGHOST=$HOSTS_ADDR PGUSER=moma_reader PGPASSWORD=$PG_SECRET
	export AWS_SECRET_ACCESS_KEY=$S3_SECRET
	export MOMA_BUCKET=carousels MOMA_KEY="{zone}/{date}/carousel.bin"
	unset MOMA_BIN MOMA_ZONES MOMA_FETCH_OPTS MOMA_ENCODE_OPTS MOMA_PUT_OPTS
	ALL=$HOSTS_DIR/prefix/bin/moma-all
	SAMPLER= ALLPID=
}

teardown() {
	# a failed test may leave its sampler or its moma-all running
	[ -z "${ALLPID:-}" ] || kill "$ALLPID" 2>/dev/null || true
	[ -z "${SAMPLER:-}" ] || { touch cmdline.stop; wait "$SAMPLER" || true; }
}

# sample_cmdlines_start / _stop: every process's command line, here and on
# the hosts (one process table), read in a loop until stopped, one argument
# a line; cmdline.hits gets those holding a secret, cmdline.jobs counts the
# ssh processes with the test's ssh_config (to show the loop saw the
# jobs), cmdline.rounds the loops.  (The patterns are in a file: the
# sampler's own command lines hold none.)
sample_cmdlines_start() {
	rm -f cmdline.stop
	(
		n=0
		until [ -e cmdline.stop ]; do
			cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' '\n' > cmdline.now
			grep -F -f "$HOSTS_DIR/secrets" cmdline.now >> cmdline.hits || true
			grep -Fx -- "$HOSTS_DIR/ssh_config" cmdline.now >> cmdline.jobs || true
			n=$((n + 1)); echo $n > cmdline.rounds
			sleep 0.02
		done
	) 3>&- &
	SAMPLER=$!
	: > cmdline.hits; : > cmdline.jobs
}
sample_cmdlines_stop() {
	touch cmdline.stop
	wait "$SAMPLER"
	SAMPLER=
}

published() {   # published ZONE: the carousel at the key is the zone's messages
	s3_get carousels "$1/$DAY/carousel.bin" "z$1.bin"
	diff -u <(db_tsv "$1" "$DAY") <(carousel_tsv "z$1.bin")
}
unpublish() { local z; for z in 1 2 3 4; do s3_curl -o /dev/null -X DELETE "carousels/$z/$DAY/carousel.bin"; done; }

# zone_hosts ZONE: the hosts of the zone's attempts, with their exit codes.
zone_hosts() { awk -F'\t' -v z="$1" 'NR > 1 { n = split($9, a, " "); if (a[n - 1] == z) print $2, $7 }' joblog; }

@test "hosts: each has sshd on its own address and no route but the test's /24" {
	for i in 1 2; do
		# SSH_CONNECTION: client address and port, server address and port
		[ "$($PARALLEL_SSH h$i 'id -un')" = "$(host_user $i)" ]
		[[ "$($PARALLEL_SSH h$i 'echo $SSH_CONNECTION')" == "$HOSTS_ADDR "*" $HOSTS_NET.$((10 + i)) 22" ]]
		[ "$(ip -n "$(host_ns $i)" -4 route show | awk '{ print $1 }' | sort -u)" = "$HOSTS_NET.0/24" ]
		$PARALLEL_SSH h$i 'command -v moma-zone' | grep -qx "$HOSTS_DIR/prefix/bin/moma-zone"
	done
}

@test "the sampler sees a secret that parallel --env carries to a host (the leak moma-all avoids)" {
	sample_cmdlines_start
	run parallel --will-cite -S h1 --env AWS_SECRET_ACCESS_KEY 'sleep 2; printenv AWS_SECRET_ACCESS_KEY' ::: 1
	sample_cmdlines_stop
	[ "$output" = "$S3_SECRET" ]
	[ -s cmdline.hits ]
	[ -s cmdline.jobs ]
}

@test "moma-all -S h1 -S h2: every zone published, from both hosts, no secret in any command line" {
	unpublish
	sample_cmdlines_start
	run_split "$ALL" -j 1 -S h1 -S h2 -l "$PWD/joblog" "$DAY"
	sample_cmdlines_stop
	assert_status 0
	[[ "$stderr" == *"moma-all: not passing PGPASSWORD AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY to the other machines"* ]]
	for z in 1 2 3 4; do
		grep -Eq "^$z +ok +$(db_tsv $z "$DAY" | wc -l) .* h[12] " <<<"$output"
		published $z
	done
	# both hosts ran zones, each zone once
	[ "$(tail -n +2 joblog | cut -f2 | sort -u | xargs)" = "h1 h2" ]
	[ "$(tail -n +2 joblog | awk -F'\t' '$7 == 0' | wc -l)" -eq 4 ]
	[ "$(s3_uploads carousels)" -eq 0 ]
	# each moma-zone removed its temporary files on its host (TMPDIR)
	[ -z "$(ls -A "$HOSTS_DIR/home1/tmp" "$HOSTS_DIR/home2/tmp" | grep -v ':$' | grep .)" ]
	# the sampler ran all along and saw the jobs' ssh, never a secret
	[ "$(cat cmdline.rounds)" -gt 5 ]
	[ -s cmdline.jobs ]
	[ ! -s cmdline.hits ] || { cat cmdline.hits >&2; false; }
}

@test "a host killed mid-run: its zone is retried on the other host and published once, no upload left open" {
	unpublish
	# On host 2, moma-put stalls before it completes an upload: the kill
	# lands between the last part and Complete, the upload open.  On
	# host 1 the tools run as installed.
	mkdir -m 755 "$HOSTS_DIR/bin-stall" 2>/dev/null || true
	for t in moma-fetch moma-encode moma-splice moma-dump; do ln -sf "$HOSTS_DIR/prefix/bin/$t" "$HOSTS_DIR/bin-stall/$t"; done
	cat > "$HOSTS_DIR/bin-stall/moma-put" <<-EOF
	#!/usr/bin/env bash
	[ "\$(id -un)" != "$(host_user 2)" ] || [[ " \$* " != *" --complete "* ]] || sleep 300
	exec "$HOSTS_DIR/prefix/bin/moma-put" "\$@"
	EOF
	chmod 755 "$HOSTS_DIR/bin-stall/moma-put"
	export MOMA_BIN=$HOSTS_DIR/bin-stall
	printf 'h1\n# the second one\nh2\n' > logins
	sample_cmdlines_start
	"$ALL" -j 1 --sshloginfile logins -r 1 -l "$PWD/joblog" "$DAY" > table 2> err &
	ALLPID=$!
	# the zone host 2 runs, once its upload is open (and a second old:
	# Swift's Initiated is rounded to the second)
	stalled() {
		zone=$(ps -u "$(host_user 2)" -o args= | sed -n 's|.*/moma-zone \([0-9]*\) .*|\1|p' | head -n 1)
		[ -n "$zone" ] && s3_curl "carousels?uploads=" | grep -q "<Key>$zone/$DAY/"
	}
	wait_for 60 stalled || { ps -u "$(host_user 2)" -o args= >&2; cat err >&2; s3_curl "carousels?uploads=" >&2; false; }
	sleep 1.5
	host_kill 2
	rc=0; wait $ALLPID || rc=$?
	ALLPID=
	sample_cmdlines_stop
	cat err >&2; cat table
	# what the killed host did to the run, in the TAP output
	sed 's/^/# /' joblog >&3
	[ $rc -eq 0 ]
	grep -q "retry 1 of [0-9]* zone(s): .*$zone" err
	# the zone: on h2 without an exit of its own (ssh's 255), then on h1
	[ "$(zone_hosts $zone | xargs)" = "h2 255 h1 0" ]
	for z in 1 2 3 4; do
		grep -Eq "^$z +ok .* h1 " table
		published $z
		[ "$(zone_hosts $z | grep -c ' 0$')" -eq 1 ]
	done
	[ "$(s3_uploads carousels)" -eq 0 ]
	[ -s cmdline.jobs ]
	[ ! -s cmdline.hits ] || { cat cmdline.hits >&2; false; }
}

@test "--filter-hosts: a host down at the start gets no zone" {
	# host 2 dies (if the test before has not killed it already): without
	# its sshd it refuses connections
	host_kill 2
	run $PARALLEL_SSH h2 true
	[ "$status" -eq 255 ]
	run_split "$ALL" -j 2 -S h1 -S h2 --filter-hosts -r 0 -l "$PWD/joblog" "$DAY"
	assert_status 0
	[ "$(tail -n +2 joblog | cut -f2 | sort -u | xargs)" = h1 ]
	[ "$(tail -n +2 joblog | awk -F'\t' '$7 == 0' | wc -l)" -eq 4 ]
	for z in 1 2 3 4; do grep -Eq "^$z +(ok|unchanged) .* h1 " <<<"$output"; done
}
