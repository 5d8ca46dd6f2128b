#!/usr/bin/env bats
# make demo, end to end, as a new user runs it (CI runs this as root, the
# case that once failed): the servers start, the data loads, every zone is
# published and checked, the servers stop and the directory goes.  Then
# Ctrl-C in the middle, a step that fails, and an unprivileged user.

load helpers

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
# a throwaway user is removed.
teardown() {
  if [ -n "${pid:-}" ] && kill -INT -- "-$pid" 2>/dev/null; then
    wait "$pid" || true
  fi
  if [ -n "${demo_user:-}" ]; then
    userdel -r "$demo_user" 2>/dev/null || true
  fi
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
    MOMA_DEMO_ROWS=$DEMO_ROWS scripts/moma-demo
  assert_status 69
  [[ $stderr == *"moma-pg: no PostgreSQL server binaries in /nonexistent"* ]]
  [[ $stderr == *"moma-demo: step 1/7 failed: moma-pg exited 69 (its error is above)"* ]]
  [[ $stderr != *"unbound variable"* ]]
  [[ $output != *"[2/7]"* ]]
}

@test "make demo as an unprivileged user (as root: a throwaway one, removed after)" {
  cd "$TOP"
  if [ "$(id -u)" -eq 0 ]; then
    demo_user=momademo$$
    useradd --create-home --shell /bin/sh "$demo_user"
    as_user=(runuser -u "$demo_user" -- env HOME="/home/$demo_user")
    # The checkout may sit where that user cannot read (/root): it gets a
    # copy of its own, release build included (tar keeps the times, so
    # make finds it up to date).
    src=/home/$demo_user/moma
    mkdir "$src"
    tar -C "$TOP" --exclude=./.git --exclude=./build/asan --exclude=./build/fuzz \
      --exclude=./tests/bench/data -cf - . | tar -C "$src" -xf -
    chown -R "$demo_user:" "$src"
    cd "$src"
  else
    as_user=()     # already unprivileged: this is the case
  fi
  run "${as_user[@]}" env -u MOMA_BUILD -u MOMA_DEMO_DIR -u MOMA_DEMO_KEEP \
    MOMA_DEMO_ROWS=$DEMO_ROWS make demo
  assert_status 0
  [[ $output == *"OK: the carousel holds"* ]]
  dir=$(demo_dir <(echo "$output"))
  [ -n "$dir" ] && [ ! -e "$dir" ]
  if [ -n "${demo_user:-}" ]; then
    userdel -r "$demo_user" 2>/dev/null || true
    demo_user=
    if id "momademo$$" >/dev/null 2>&1; then echo "user momademo$$ left behind" >&2; return 1; fi
  fi
}
