# helpers.bash - shared by every tests/*.bats file.
#
# Binaries are taken by path from $MOMA_BUILD/bin (set by scripts/run-tests;
# defaults to build/release), never from $PATH.  Server helpers live in
# tests/lib/*.bash and are sourced by the files that need them.

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
MOMA_BUILD=${MOMA_BUILD:-$TOP/build/release}
BIN=$MOMA_BUILD/bin
FETCH=$BIN/moma-fetch
ENCODE=$BIN/moma-encode
DUMP=$BIN/moma-dump
PUT=$BIN/moma-put
FIXTURES=$TOP/tests/fixtures

# sysexits(3)
EX_USAGE=64 EX_DATAERR=65 EX_NOINPUT=66 EX_UNAVAILABLE=69 EX_SOFTWARE=70
EX_OSERR=71 EX_CANTCREAT=73 EX_IOERR=74 EX_TEMPFAIL=75 EX_PROTOCOL=76
EX_NOPERM=77 EX_CONFIG=78

# wait_for TIMEOUT_S CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

# run_status CMD...: like bats' run but keeps stderr apart in $stderr.
run_split() {
  local errf=$BATS_TEST_TMPDIR/stderr.$$
  set +e
  output=$("$@" 2>"$errf")
  status=$?
  set -e
  stderr=$(cat "$errf")
}

# assert_status N: fail with the captured output if $status is not N.
assert_status() {
  if [ "$status" -ne "$1" ]; then
    echo "expected exit $1, got $status" >&2
    echo "stdout: ${output:-}" >&2
    echo "stderr: ${stderr:-}" >&2
    return 1
  fi
}
