# helpers.bash - shared by every tests/*.bats file.
#
# Binaries are taken by path from $MOMA_BUILD/bin (set by scripts/dev/run-tests;
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

# No test may reach the real EC2 instance metadata service or container
# agent (moma-put's credential chain would try them last), nor pick up a
# web identity from the host.
export AWS_EC2_METADATA_DISABLED=true
unset AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI \
  AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN

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

bats_require_minimum_version 1.5.0

# run_split CMD...: bats' run with stderr kept apart in $stderr.
run_split() {
  run --separate-stderr "$@"
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

GEN=$MOMA_BUILD/gen/moma-gen
SECCHECK=$MOMA_BUILD/testtools/seccheck

# patch_byte FILE OFFSET BYTE: overwrite one byte (BYTE in decimal).
patch_byte() {
  perl -e 'open(my $f, "+<", $ARGV[0]) or die $!; binmode $f; seek($f, $ARGV[1], 0);
           print $f chr($ARGV[2]); close $f or die $!' "$1" "$2" "$3"
}

# byte_at FILE OFFSET: print the byte's value in decimal.
byte_at() {
  od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '
}

# frames_of JSONL_FILE OUT: frame stream from JSON lines via moma-dump -r.
frames_of() {
  "$DUMP" -r < "$1" > "$2"
}

# one_message FIELDS_JSON: a JSON line of a valid message, with the given
# fields (a jq object) merged over the defaults.
one_message() {
  jq -cn --argjson o "${1:-{\}}" '{id: 7, campagne_id: 77, numero_abonne: 123456,
    template_id: 5, genre: 2, ack_count: 1, ack_delay: 30,
    valid_start: "2026-11-22T00:00:00Z", valid_end: "2026-11-30T23:59:59Z",
    storables: {titre: "Offre spéciale", prix: 1999}} + $o'
}
