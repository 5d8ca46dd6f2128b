#!/usr/bin/env bats
# --help and --version of moma-fetch, moma-encode and moma-dump: --help
# exits 0 with the usage and every option of the manual page on standard
# output and nothing on standard error; --version prints "name VERSION"
# (the Makefile's); a usage error exits 64 with the usage on standard
# error only, a bad number with the one wording of libshared's num_arg;
# and neither exits 0 when standard output cannot be written (moma-put
# too).

load helpers

TOOLS=(moma-fetch moma-encode moma-dump moma-splice)
VERSION=$(cat "$TOP/scripts/VERSION")   # the Makefile builds with it

# man_options TOOL: every option the manual page's option list documents
# (.It lines before ENVIRONMENT), one per line, as typed: -j, --zone-name.
man_options() {
  sed -n '/^\.Sh DESCRIPTION/,/^\.Sh ENVIRONMENT/p' "$TOP/man/$1.1" | grep '^\.It Fl' |
    grep -o 'Fl [^ ]*' | sed 's/^Fl /-/; s/\\//g; s/,$//' | sort -u
}

@test "the manual pages list options at all (the checks below are not empty)" {
  for t in moma-fetch moma-encode moma-dump; do
    [ "$(man_options "$t" | wc -l)" -ge 8 ]
  done
  man_options moma-encode | grep -qx -- '--fail-on-reject'
  man_options moma-fetch | grep -qx -- '-j'
}

@test "--help: exit 0, usage and every documented option on stdout, nothing on stderr" {
  for t in "${TOOLS[@]}"; do
    run_split "$BIN/$t" --help
    assert_status 0
    [ -z "$stderr" ]
    [[ ${lines[0]} == "usage: $t "* ]]
    for o in $(man_options "$t"); do
      grep -qE -- "(^|[ ,[])$o([ ,=]|\$)" <<<"$output" || { echo "$t --help lacks $o" >&2; return 1; }
    done
  done
}

@test "-h is --help" {
  for t in "${TOOLS[@]}"; do
    [ "$("$BIN/$t" -h)" = "$("$BIN/$t" --help)" ]
  done
}

@test "--version: exit 0, the name and the Makefile's version on stdout" {
  [ -n "$VERSION" ]
  for t in "${TOOLS[@]}"; do
    run_split "$BIN/$t" --version
    assert_status 0
    [ "$output" = "$t $VERSION" ]
    [ -z "$stderr" ]
  done
}

@test "-V is --version in every tool" {
  for t in "${TOOLS[@]}" moma-put; do
    run_split "$BIN/$t" -V
    assert_status 0
    [ "$output" = "$t $VERSION" ]
  done
}

@test "a usage error: exit 64, the usage on stderr, nothing on stdout" {
  for t in "${TOOLS[@]}"; do
    run_split "$BIN/$t" --no-such-option
    assert_status 64
    [ -z "$output" ]
    [[ $stderr == *"usage: $t "* ]]
  done
}

@test "a number out of its range: exit 64, one wording in every tool, then the usage" {
  for a in "moma-fetch --zone 256" "moma-encode --max-section 42" "moma-dump -n 0" "moma-put -j 65" \
           "moma-encode --pid 0x1fff" "moma-dump --pid x"; do
    set -- $a
    run_split "$BIN/$1" "$2" "$3"
    assert_status 64
    [ -z "$output" ]
    [[ ${stderr%%$'\n'*} =~ ^$1:\ $2:\ \'$3\'\ is\ not\ a\ number\ in\ [0-9]+\.\.[0-9]+ ]] ||
      { echo "$a: $stderr" >&2; return 1; }
    [[ $stderr == *$'\n'"usage: $1 "* ]]
  done
}

@test "--help and --version to a full disk exit 74, not 0" {
  [ -w /dev/full ] || { echo "no /dev/full" >&2; return 1; }
  for t in "${TOOLS[@]}" moma-put; do
    for o in --help --version; do
      run_split "$BIN/$t" "$o"
      assert_status 0
      run bash -c '"$1" "$2" > /dev/full' _ "$BIN/$t" "$o"
      assert_status 74
      [[ $output == *"$t: stdout: No space left on device"* ]]
    done
  done
}
