# tests/lib/hosts.bash - other machines for moma-all to ssh into, made on
# this one: each "host" is a Linux network namespace with its own address
# on a private /24 that exists only for the test, Debian's real sshd
# listening on port 22 of that address, and a user of its own (its own
# home, so its own ~/.pgpass and ~/.aws/credentials).  A bridge on this
# side holds the /24's .1, where the tests make PostgreSQL and the S3
# server listen.  The namespaces have no route but the /24: nothing they
# send can leave it.  They share this machine's files and processes
# (ip netns only separates the network), which is what lets a test
# sample every /proc/*/cmdline, here and "there", in one loop.
#
#   hosts_can || { [ $? -eq 1 ] && skip "$HOSTS_WHY"; false; }   # root only
#   hosts_up N     # hosts h1..hN; exports HOSTS_DIR (0755, holds the
#                  # keys, configs, logs and the homes), HOSTS_NET (the
#                  # /24's first three numbers), HOSTS_ADDR (its .1) and
#                  # PARALLEL_SSH (ssh with the test's ssh_config, which
#                  # knows h1..hN, their users, host keys and the key)
#   host_user I    # the login of host I
#   host_ns I      # its namespace
#   host_kill I    # SIGKILL to every process in it: the machine dies
#   hosts_down     # all of it removed, by PID and by name
#
# Names end with HOSTS_ID (the PID of the shell that ran hosts_up,
# exported: bats runs each test in a process of its own) so that two runs,
# or a run after an interrupted one, do not collide.

HOSTS_ID=${HOSTS_ID:-$$}
HOSTS_N=${HOSTS_N:-0}

# hosts_can: 0 if hosts can be made here; 1, with HOSTS_WHY, as a user
# (the one reason to skip).  As root, a missing command or a failing
# `ip netns add` is an error of the machine, reported as such: it fails
# the test, never skips it.
hosts_can() {
	local c err
	HOSTS_WHY=
	if [ "$(id -u)" -ne 0 ]; then
		HOSTS_WHY="needs root (network namespaces, sshd, users of their own); CI runs as root"
		return 1
	fi
	for c in ip sshd ssh-keygen useradd; do
		command -v "$c" >/dev/null || [ -x "/usr/sbin/$c" ] ||
			{ echo "hosts_can: $c is missing (scripts/dev/moma-deps test installs it)" >&2; return 2; }
	done
	err=$(ip netns add "moma-probe-$HOSTS_ID" 2>&1) ||
		{ echo "hosts_can: ip netns add fails as root: $err" >&2; return 2; }
	ip netns del "moma-probe-$HOSTS_ID"
}

host_ns() { echo "moma-h$1-$HOSTS_ID"; }
host_user() { echo "moma-h$1-$HOSTS_ID"; }
host_addr() { echo "$HOSTS_NET.$((10 + $1))"; }

# A /24 of 10.0.0.0/8 that nothing on this machine uses or routes to.
hosts_pick_net() {
	local tries net used
	used=$(ip -4 -o addr show; ip -4 route show table all)
	for tries in $(seq 1 50); do
		net=10.$((200 + RANDOM % 50)).$((RANDOM % 256))
		grep -q " $net\." <<<" $used" || { echo "$net"; return 0; }
	done
	return 1
}

hosts_up() {
	local n=$1 i ns user addr br=momabr$HOSTS_ID
	HOSTS_DIR=$(mktemp -d /tmp/moma-hosts.XXXXXX)
	chmod 755 "$HOSTS_DIR"
	HOSTS_NET=$(hosts_pick_net) || { echo "# no free /24 in 10.200-249" >&3; return 1; }
	HOSTS_ADDR=$HOSTS_NET.1
	export HOSTS_DIR HOSTS_NET HOSTS_ADDR HOSTS_ID HOSTS_N
	ip link add name "$br" type bridge
	echo "$br" > "$HOSTS_DIR/bridge"
	ip addr add "$HOSTS_ADDR/24" dev "$br"
	ip link set "$br" up
	# sshd wants its privilege separation directory (systemd makes it).
	if [ ! -d /run/sshd ]; then
		mkdir -m 755 /run/sshd && touch "$HOSTS_DIR/made-run-sshd"
	fi
	ssh-keygen -q -t ed25519 -N '' -C "moma test client" -f "$HOSTS_DIR/id"
	cp "$HOSTS_DIR/id.pub" "$HOSTS_DIR/authorized_keys"
	: > "$HOSTS_DIR/known_hosts"
	cat > "$HOSTS_DIR/ssh_config" <<-EOF
	Host h*
	  IdentityFile $HOSTS_DIR/id
	  IdentitiesOnly yes
	  UserKnownHostsFile $HOSTS_DIR/known_hosts
	  GlobalKnownHostsFile /dev/null
	  StrictHostKeyChecking yes
	  BatchMode yes
	  ConnectTimeout 5
	  ServerAliveInterval 2
	  ServerAliveCountMax 3
	  LogLevel ERROR
	EOF
	for i in $(seq 1 "$n"); do
		ns=$(host_ns "$i") user=$(host_user "$i") addr=$(host_addr "$i")
		ip netns add "$ns"
		export HOSTS_N=$i
		ip link add "mhv$i-$HOSTS_ID" type veth peer name eth0 netns "$ns"
		ip link set "mhv$i-$HOSTS_ID" master "$br" up
		ip -n "$ns" addr add "$addr/24" dev eth0
		ip -n "$ns" link set eth0 up
		ip -n "$ns" link set lo up
		useradd -M -d "$HOSTS_DIR/home$i" -s /bin/bash -p '*' "$user"
		install -d -m 700 -o "$user" -g "$user" "$HOSTS_DIR/home$i" "$HOSTS_DIR/home$i/tmp"
		ssh-keygen -q -t ed25519 -N '' -C "h$i" -f "$HOSTS_DIR/host$i"
		echo "$addr $(cut -d' ' -f1-2 "$HOSTS_DIR/host$i.pub")" >> "$HOSTS_DIR/known_hosts"
		printf 'Host h%s\n  HostName %s\n  User %s\n' "$i" "$addr" "$user" >> "$HOSTS_DIR/ssh_config"
		cat > "$HOSTS_DIR/sshd$i.conf" <<-EOF
		ListenAddress $addr:22
		HostKey $HOSTS_DIR/host$i
		PidFile $HOSTS_DIR/sshd$i.pid
		AuthorizedKeysFile $HOSTS_DIR/authorized_keys
		AllowUsers $user
		StrictModes no
		UsePAM no
		PermitRootLogin no
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		X11Forwarding no
		AllowTcpForwarding no
		PrintMotd no
		MaxStartups 100:30:200
		MaxSessions 100
		SetEnv PATH=$HOSTS_DIR/prefix/bin:/usr/local/bin:/usr/bin:/bin TMPDIR=$HOSTS_DIR/home$i/tmp
		EOF
		# ip netns exec execs sshd in place: $! is sshd's PID.  (In a
		# subshell, so that its death by host_kill is no job of ours.)
		(ip netns exec "$ns" /usr/sbin/sshd -D -e -f "$HOSTS_DIR/sshd$i.conf" \
			-E "$HOSTS_DIR/sshd$i.log" </dev/null >/dev/null 2>&1 3>&- &
		echo $! > "$HOSTS_DIR/sshd$i.pid.started")
	done
	export PARALLEL_SSH="ssh -F $HOSTS_DIR/ssh_config"
	for i in $(seq 1 "$n"); do
		wait_for 30 $PARALLEL_SSH "h$i" true || {
			echo "# sshd of h$i does not answer; its log:" >&3
			sed 's/^/# /' "$HOSTS_DIR/sshd$i.log" >&3
			return 1
		}
	done
}

# host_home I FILE MODE: stdin into FILE of host I's home, its user's, mode MODE.
host_home() {
	local f=$HOSTS_DIR/home$1/$2 user
	user=$(host_user "$1")
	install -d -m 700 -o "$user" -g "$user" "$(dirname "$f")"
	cat > "$f"
	chown "$user:" "$f"
	chmod "$3" "$f"
}

host_kill() {
	local ns pids tries
	ns=$(host_ns "$1")
	for tries in $(seq 1 50); do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] || return 0
		kill -KILL $pids 2>/dev/null || true
		sleep 0.1
	done
	return 1
}

hosts_down() {
	[ -n "${HOSTS_DIR:-}" ] || return 0
	local i br
	for i in $(seq 1 "$HOSTS_N"); do
		host_kill "$i" || true
		ip netns del "$(host_ns "$i")" 2>/dev/null || true
		userdel "$(host_user "$i")" 2>/dev/null || true
	done
	br=$(cat "$HOSTS_DIR/bridge" 2>/dev/null) && ip link del "$br" 2>/dev/null || true
	[ ! -e "$HOSTS_DIR/made-run-sshd" ] || rmdir /run/sshd 2>/dev/null || true
	rm -rf "$HOSTS_DIR"
	unset HOSTS_DIR
}
