# tests/lib/user.bash - run a command as an unprivileged user.
#
#   user_setup [--copy] [EXCLUDE...]   # in a test: sets AS_USER, USER_CMD, USER_TOP
#   "${AS_USER[@]}" make -C "$USER_TOP" ...
#   user_teardown                      # also in teardown(): removes the user
#
# Run as root, user_setup makes a throwaway user (useradd -m, its name in
# THROWAWAY_USER) and gives it a copy of the checkout in its home (the
# checkout may sit where it cannot read, /root), the release build
# included (tar keeps the times, so make finds it up to date).  AS_USER
# (and USER_CMD, the same, for a test that changes AS_USER) runs a command
# as that user with runuser, in the environment a login gives it: a clean
# one, Debian's PATH for users (no /usr/sbin).  Run as an unprivileged user
# already, that is the case: AS_USER is empty and USER_TOP is the checkout
# itself, or with --copy a copy of it in $BATS_TEST_TMPDIR.  .git,
# build/asan, build/fuzz, the bench data and each EXCLUDE (a tar --exclude
# pattern, ./build for instance) are not copied.

user_setup() {
  local copy=0 home ex=() p
  if [ "${1:-}" = --copy ]; then copy=1; shift; fi
  for p in "$@"; do ex+=(--exclude="$p"); done
  THROWAWAY_USER='' AS_USER=() USER_CMD=() USER_TOP=$TOP
  if [ "$(id -u)" -eq 0 ]; then
    THROWAWAY_USER=moma-t$BASHPID
    useradd --create-home --shell /bin/sh --user-group "$THROWAWAY_USER"
    home=$(getent passwd "$THROWAWAY_USER" | cut -d: -f6)
    USER_TOP=$home/moma
    USER_CMD=(runuser -u "$THROWAWAY_USER" -- env -i HOME="$home" USER="$THROWAWAY_USER"
      LOGNAME="$THROWAWAY_USER" SHELL=/bin/sh PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8)
    AS_USER=("${USER_CMD[@]}")
  elif [ $copy -eq 1 ]; then
    USER_TOP=$BATS_TEST_TMPDIR/moma
  else
    return 0
  fi
  mkdir "$USER_TOP"
  tar -C "$TOP" --exclude=./.git --exclude=./build/asan --exclude=./build/fuzz \
    --exclude=./tests/bench/data "${ex[@]}" -cf - . | tar -C "$USER_TOP" -xf -
  [ -z "$THROWAWAY_USER" ] || chown -R "$THROWAWAY_USER:" "$USER_TOP"
}

# user_teardown: remove the throwaway user and its home, if there is one;
# fail if it stays.  Processes it left (a bug of the test: there should be
# none) are named and stopped by PID first.
user_teardown() {
  [ -n "${THROWAWAY_USER:-}" ] || return 0
  local u=$THROWAWAY_USER pids
  THROWAWAY_USER=
  pids=$(ps -o pid=,stat= -u "$u" 2>/dev/null | awk '$2 !~ /^Z/ { print $1 }' | tr -s ' \n' ' ') || true
  if [ -n "${pids// /}" ]; then
    echo "# user $u left processes behind: $pids" >&3
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
  fi
  # userdel refuses while a process of the user exists, zombies too:
  # PID 1 may take a while to reap them.
  wait_for 10 userdel -r "$u" || true
  if id "$u" >/dev/null 2>&1; then echo "user $u left behind" >&2; return 1; fi
}
