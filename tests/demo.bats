#!/usr/bin/env bats
# make demo, end to end, as a new user runs it (CI runs this as root, the
# case that once failed): the servers start, the data loads, every zone is
# published and checked, the servers stop and the directory goes.  Then
# Ctrl-C in the middle, a step that fails, an unprivileged user, and
# make demo and make check on a machine that misses packages.

load helpers
load lib/user

# Few rows: the demo's default (a million) is for people, not for CI.
DEMO_ROWS=20000

# demo_dir FILE: the working directory the demo announced in its output.
demo_dir() {
  sed -n 's/^moma-demo: working in \([^ ]*\) .*/\1/p' "$1" | head -n 1
}

# alive_in DIR: print the PIDs of processes whose command line names DIR.
alive_in() {
  local p
  for p in /proc/[0-9]*; do
    { tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null | grep -qF "$1/" && echo "${p#/proc/}"
  done
  return 0
}

# running PID: the process exists and is not a zombie (a server that has
# exited may wait a while for an init that reaps slowly).
running() {
  [ -e "/proc/$1" ] && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# in_own_group CMD...: CMD in a new session (its own process group), with
# SIGINT at its default action: what a terminal's Ctrl-C reaches.
# Run in the background, it is its own process: $! is the group's ID.
in_own_group() {
  exec perl -MPOSIX -e '$SIG{INT} = "DEFAULT"; POSIX::setsid(); exec @ARGV or die "exec: $!\n"' "$@"
}

# A demo still running after a failed assertion is stopped as Ctrl-C does;
# a throwaway user is removed (tests/lib/user.bash).
teardown() {
  if [ -n "${pid:-}" ] && kill -INT -- "-$pid" 2>/dev/null; then
    wait "$pid" || true
  fi
  user_teardown
}

@test "make demo: every zone published and checked, servers stopped, directory removed" {
  cd "$TOP"
  run env -u MOMA_BUILD -u MOMA_DEMO_DIR -u MOMA_DEMO_KEEP MOMA_DEMO_ROWS=$DEMO_ROWS make demo
  assert_status 0
  [[ $output == *"OK: the carousel holds"* ]]
  for z in 1 2 3 4; do
    grep -Eq "^$z +ok +[1-9][0-9]* " <<<"$output"
    grep -q " $z/2026-11-15/carousel.bin\$" <<<"$output"
  done
  # the database's count and the carousel's are one number, and non-zero
  grep -Eq 'holds ([1-9][0-9]*) messages .*, the database \1$' <<<"$output"
  dir=$(demo_dir <(echo "$output"))
  [ -n "$dir" ]
  [[ $output == *"moma-demo: removed $dir ("*")"* ]]
  [ ! -e "$dir" ]
  [ -z "$(alive_in "$dir")" ]
}

@test "make demo: Ctrl-C while loading exits 130, says so, stops the servers" {
  cd "$TOP"
  out=$BATS_TEST_TMPDIR/out
  # enough rows that the load is still running when the signal comes
  in_own_group env -u MOMA_BUILD -u MOMA_DEMO_DIR -u MOMA_DEMO_KEEP MOMA_DEMO_ROWS=5000000 \
    make demo > "$out" 2>&1 &
  pid=$!
  wait_for 300 grep -qF '[3/7]' "$out" || { cat "$out"; kill -KILL -- "-$pid"; return 1; }
  dir=$(demo_dir "$out")
  [ -d "$dir" ]
  pids=$(alive_in "$dir")
  [ -n "$pids" ]		# the servers are up
  kill -INT -- "-$pid"
  rc=0
  wait "$pid" || rc=$?
  pid=
  cat "$out"
  [ "$rc" -eq 130 ]
  grep -q '^moma-demo: interrupted at step 3/7, stopping the servers$' "$out"
  grep -q '^moma-demo: servers stopped$' "$out"
  for p in $pids; do
    if running "$p"; then echo "PID $p still runs: $(ps -o pid=,ppid=,stat=,args= -p "$p")" >&2; return 1; fi
  done
  [ -z "$(alive_in "$dir")" ]
  [ ! -e "$dir" ]
}

@test "moma-demo: a step that fails says which, with the tool's own message and status" {
  cd "$TOP"
  run --separate-stderr env -u MOMA_BUILD -u MOMA_DEMO_DIR MOMA_PG_BIN=/nonexistent \
    MOMA_DEMO_ROWS=$DEMO_ROWS scripts/dev/moma-demo
  assert_status 69
  [[ $stderr == *"moma-pg: no PostgreSQL server binaries in /nonexistent"* ]]
  [[ $stderr == *"moma-demo: step 1/7 failed: moma-pg exited 69 (its error is above)"* ]]
  [[ $stderr != *"unbound variable"* ]]
  [[ $output != *"[2/7]"* ]]
}


@test "make demo as an unprivileged user (as root: a throwaway one, removed after)" {
  user_setup
  run "${AS_USER[@]}" env -u MOMA_BUILD -u MOMA_DEMO_DIR -u MOMA_DEMO_KEEP -u MAKEFLAGS -u MAKELEVEL \
    MOMA_DEMO_ROWS=$DEMO_ROWS make -C "$USER_TOP" demo
  assert_status 0
  [[ $output == *"OK: the carousel holds"* ]]
  dir=$(demo_dir <(echo "$output"))
  [ -n "$dir" ] && [ ! -e "$dir" ]
  user_teardown
}

# fake_dpkg DIR PKG...: a dpkg-query in DIR that answers for each PKG as
# dpkg does for a package that is not installed, and hands every other
# question to the real one.  scripts/dev/moma-deps decides what is missing
# from `dpkg-query -W -f='${Status}' PKG` alone.
fake_dpkg() {
  local dir=$1
  shift
  mkdir -p "$dir"
  cat >"$dir/dpkg-query" <<EOF
#!/bin/sh
for a; do last=\$a; done
for p in $*; do
  if [ "\$last" = "\$p" ]; then
    echo "dpkg-query: no packages found matching \$p" >&2
    exit 1
  fi
done
exec /usr/bin/dpkg-query "\$@"
EOF
  chmod 755 "$dir/dpkg-query"
}

# apt_line: the command moma-deps is to print for the user AS_USER runs
# as, to install libjansson-dev and jq (a build and a test package).
apt_line() {
  local i="apt-get install -y --no-install-recommends libjansson-dev jq"
  if [ "$("${AS_USER[@]}" id -u)" -eq 0 ]; then
    echo "apt-get update && $i"
  elif "${AS_USER[@]}" sh -c 'command -v sudo' >/dev/null; then
    echo "sudo apt-get update && sudo $i"
  else
    echo "su -c 'apt-get update && $i'"
  fi
}

# missing_run TARGET: make TARGET in the copy USER_TOP, as AS_USER, on a
# machine where libjansson-dev and jq are not installed, and check what
# it says and that it stops there.
missing_run() {
  local fake=$USER_TOP.fakebin want path inst
  fake_dpkg "$fake" libjansson-dev jq
  [ -z "${THROWAWAY_USER:-}" ] || chown -R "$THROWAWAY_USER:" "$fake"
  want=$(apt_line)
  path=$("${AS_USER[@]}" sh -c 'echo "$PATH"')
  run "${AS_USER[@]}" env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u MOMA_BUILD PATH="$fake:$path" \
    make -C "$USER_TOP" "$1"
  echo "$output"
  [ "$status" -ne 0 ]
  grep -qxF "moma-deps: missing packages: libjansson-dev jq" <<<"$output"
  grep -qxF "moma-deps: install them with:  $want" <<<"$output"
  # it stops there: nothing compiled, no server started, no cryptic error
  [[ $output != *" -c -o "* && $output != *"[1/7]"* && $output != *"error:"* ]]
  [ ! -e "$USER_TOP/build" ]
  # and the line is one apt-get takes: simulated, it finds both packages
  inst=${want##*&& }
  inst=${inst#sudo }
  inst=${inst%\'}
  # shellcheck disable=SC2086
  run apt-get -s ${inst#apt-get }
  assert_status 0
  [[ $output == *libjansson-dev* && $output == *jq* ]]
}

@test "make check as an unprivileged user with packages missing: the exact apt-get line, nothing built" {
  user_setup --copy ./build
  [ "$("${AS_USER[@]}" id -u)" -ne 0 ]
  missing_run check
  user_teardown
}

# As root, make check installs what is missing and goes on.  The copy runs
# one bats file only (TESTS=): the whole suite would run this test again,
# and so on down.  The packages "missing" are installed already, so the
# real apt-get runs and changes nothing.
@test "make check as root with packages missing: installs them with apt-get, then runs the tests" {
  [ "$(id -u)" -eq 0 ] || skip "needs root: as a user make check only prints the apt-get line (the test above)"
  local copy=$BATS_TEST_TMPDIR/moma fake=$BATS_TEST_TMPDIR/fakebin
  mkdir "$copy"
  # the ASan and fuzz builds come along (tar keeps the times: up to date)
  tar -C "$TOP" --exclude=./.git --exclude=./tests/bench/data -cf - . | tar -C "$copy" -xf -
  fake_dpkg "$fake" libjansson-dev jq
  run env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u MOMA_BUILD PATH="$fake:$PATH" FUZZ_SHORT=1 \
    make -C "$copy" check TESTS=tests/help.bats
  echo "$output"
  assert_status 0
  grep -qxF "moma-deps: installing libjansson-dev jq" <<<"$output"
  # apt-get itself ran, and found both in place
  grep -q "libjansson-dev is already the newest version" <<<"$output"
  grep -q "jq is already the newest version" <<<"$output"
  # then the tests, one file, the closing line of that run
  [[ $output == *"ok 1 "* ]]
  grep -qxE '[1-9][0-9]* passed, 0 failed' <<<"$output"
}

@test "make demo as an unprivileged user with packages missing: the exact apt-get line, nothing run" {
  user_setup --copy ./build
  [ "$("${AS_USER[@]}" id -u)" -ne 0 ]
  missing_run demo
  user_teardown
}

# make with a pkg-config package missing: its name, its Debian package and
# the install line, before anything compiles (not a link error).  The
# pkg-config here answers as pkg-config does for a package it cannot find,
# for jansson, and asks the real one for the rest.
@test "make with a library missing: names it and its package, compiles nothing" {
  local copy=$BATS_TEST_TMPDIR/moma fake=$BATS_TEST_TMPDIR/fakepc
  mkdir "$copy" "$fake"
  tar -C "$TOP" --exclude=./.git --exclude=./build --exclude=./tests/bench/data -cf - . | tar -C "$copy" -xf -
  cat >"$fake/pkg-config" <<'PC'
#!/bin/sh
for a; do [ "$a" = jansson ] && { echo "Package jansson was not found in the pkg-config search path." >&2; exit 1; }; done
exec /usr/bin/pkg-config "$@"
PC
  chmod 755 "$fake/pkg-config"
  run env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS PATH="$fake:$PATH" make -C "$copy"
  echo "$output"
  [ "$status" -ne 0 ]
  grep -qxF "moma-deps: pkg-config finds no 'jansson' (Debian package libjansson-dev)" <<<"$output"
  grep -qF "moma-deps: install them with:  " <<<"$output"
  grep -qF "apt-get install -y --no-install-recommends libjansson-dev" <<<"$output"
  [[ $output != *" -c -o "* && $output != *"undefined reference"* ]]
  [ ! -e "$copy/build/release/libshared.a" ]
  [ -z "$(find "$copy/build" -name '*.o' 2>/dev/null)" ]
}
