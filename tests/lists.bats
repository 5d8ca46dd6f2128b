#!/usr/bin/env bats
# One list per fact: where a fact has to be written twice (a script and
# its manual page, a header's table and a format page), the copies are
# compared here, so that one cannot drift from the other unnoticed.  No
# server, no binary: these read the tree.

load helpers

# names FILE SED-RANGE: the upper-case words of the lines of FILE that
# the sed address range selects, one a line, sorted.
names() {
  sed -n "$2p" "$1" | grep -oE '\b[A-Z][A-Z0-9_]{2,}\b' | sort -u
}

@test "moma-all passes every variable a tool or moma-zone reads (but secrets and this machine's own); moma-all(1) lists the same" {
  passed=$(names "$TOP/scripts/moma-all" '/^passed=(/,/)$/')
  secrets=$(names "$TOP/scripts/moma-all" '/^secrets=(/,/)$/')
  [ -n "$passed" ] && [ -n "$secrets" ]
  # Never passed, on purpose (moma-all's comment above passed=() says
  # so): the machine's own home, moma-all's own options, and two
  # variables only the tests set.
  own=$'HOME\nMOMA_ALL_OPTS\nMOMA_PUT_MAX_PARTS\nMOMA_PUT_RESOLVE'
  # Every variable the tools read, and every one the shipped moma.env sets.
  read_by_tools=$(grep -rhoE '(getenv|errenv_get)\("[A-Z0-9_]+"\)' "$TOP/tools" "$TOP/libshared" |
    grep -oE '"[A-Z0-9_]+"' | tr -d '"' | sort -u)
  set_by_env=$(grep -oE '^[A-Z][A-Z0-9_]+=' "$TOP/systemd/moma.env" | tr -d = | sort -u)
  # and every MOMA_ variable the scripts a remote moma-all runs read
  # (MOMA_CACHE_DIR was missed once), but the constants they set.
  scripts=("$TOP/scripts/moma-zone" "$TOP/scripts/moma-incr.sh" "$TOP/scripts/moma-lib.sh")
  read_by_scripts=$(comm -23 <(grep -hoE '\$\{?MOMA_[A-Z0-9_]+' "${scripts[@]}" | tr -d '${' | sort -u) \
    <(grep -hoE '^(readonly )?MOMA_[A-Z0-9_]+=' "${scripts[@]}" | sed 's/^readonly //' | tr -d = | sort -u))
  [ -n "$read_by_tools" ] && [ -n "$set_by_env" ] && [ -n "$read_by_scripts" ]
  missing=$(comm -23 <(sort -u <<<"$read_by_tools"$'\n'"$set_by_env"$'\n'"$read_by_scripts") \
    <(sort -u <<<"$passed"$'\n'"$secrets"$'\n'"$own"))
  [ -z "$missing" ] || { echo "read but neither passed nor excluded by moma-all: $missing" >&2; return 1; }
  # A secret is never in the passed list.
  both=$(comm -12 <(echo "$passed") <(echo "$secrets"))
  [ -z "$both" ] || { echo "secrets in passed=(): $both" >&2; return 1; }
  # moma-all(1) SEVERAL MACHINES: the same two lists.
  man_passed=$(names "$TOP/man/moma-all.1" '/passes these variables from its own environment/,/Paths among them/')
  diff -u <(echo "$passed") <(echo "$man_passed")
  man_secrets=$(names "$TOP/man/moma-all.1" '/never sends$/,/to another machine:/')
  diff -u <(echo "$secrets") <(echo "$man_secrets")
}

@test "moma-section(5)'s tag table is TLV_REGISTRY: key, tag, type and group" {
  # tlv.h: X(name, 0xNN, TYPE) -> "name 0xNN type group"; the group is
  # the tag's range (0x01-0x1f content, 0x20- appearance, 0x40- filter,
  # 0x60- addressee).
  reg=$(grep -oE 'X\([a-z_0-9]+,[[:space:]]*0x[0-9a-f]{2},[[:space:]]*[A-Z0-9]+\)' "$TOP/libshared/tlv.h" |
    sed -E 's/X\(([a-z_0-9]+),[[:space:]]*(0x[0-9a-f]{2}),[[:space:]]*([A-Z0-9]+)\)/\1 \2 \3/' |
    awk '{ t = $2; g = t < "0x20" ? "content" : t < "0x40" ? "appearance" : t < "0x60" ? "filter" : "addressee";
           print $1, $2, tolower($3), g }')
  [ "$(wc -l <<<"$reg")" -ge 10 ]
  man=$(sed -n '/^\.It Sy key Ta Sy tag Ta Sy type Ta Sy group/,/^\.El/p' "$TOP/man/moma-section.5" |
    grep '^\.It [a-z]' | sed -E 's/^\.It //; s/ Ta / /g')
  diff -u <(echo "$reg") <(echo "$man")
}

@test "HACKING.md states scripts/dev/check-size's limits" {
  file=$(grep -oE 'MOMA_MAX_FILE_LINES:-[0-9]+' "$TOP/scripts/dev/check-size" | grep -oE '[0-9]+$')
  fn=$(grep -oE 'MOMA_MAX_FUNCTION_LINES:-[0-9]+' "$TOP/scripts/dev/check-size" | grep -oE '[0-9]+$')
  [ -n "$file" ] && [ -n "$fn" ]
  grep -q "no C file over $file lines, no function over $fn" "$TOP/HACKING.md"
  grep -q "holds the two limits ($file and $fn)" "$TOP/HACKING.md"
}

# statuses: the run statuses of moma-lib.sh's MOMA_STATUSES, one a line,
# sorted.  as_status: a page's words to the same form (every failed:STAGE
# is failed).
statuses() {
  sed -n 's/^MOMA_STATUSES=(\(.*\))$/\1/p' "$TOP/scripts/moma-lib.sh" | tr ' ' '\n' | sort -u
}
as_status() {
  tr -s ' ,\t' '\n' | sed -E '/^$/d; s/^failed:.*/failed/' | sort -u
}

@test "the run statuses: moma-lib.sh's list is the one moma-zone sets and every page lists" {
  want=$(statuses)
  [ "$(wc -l <<<"$want")" -ge 5 ]
  # Every status moma-zone sets.
  set_by_zone=$(grep -oE '\bstatus=[a-z][a-z:-]*' "$TOP/scripts/moma-zone" | sed 's/^status=//' | as_status)
  diff -u <(echo "$want") <(echo "$set_by_zone")
  # moma-zone's own header (--help): "# status: a, b (why), c or d ... ."
  head_list=$(sed -n '/^# status: /,/^# Exit status/p' "$TOP/scripts/moma-zone" | sed '$d; s/^# //' |
    tr '\n' ' ' | sed -E 's/\([^)]*\)//g; s/^status: //; s/\.[[:space:]]*$//; s/ or / /g' | as_status)
  diff -u <(echo "$want") <(echo "$head_list")
  # moma-zone(1): the summary line's status list and the metric's.
  zone_sum=$(sed -n '/^\.It status$/,/^\.El$/p' "$TOP/man/moma-zone.1" | sed -n 's/^\.It Cm //p' | as_status)
  diff -u <(echo "$want") <(echo "$zone_sum")
  zone_metric=$(sed -n '/^\.It Li moma_zone_status/,/^\.Pq any/p' "$TOP/man/moma-zone.1" | sed -n 's/^\.Cm //p' |
    sed 's/ and / /' | as_status)
  diff -u <(echo "$want") <(echo "$zone_metric")
  # moma-all(1)'s table (failed:no-summary is moma-all's own, a failure).
  all_tab=$(sed -n '/^\.It status$/,/^\.El$/p' "$TOP/man/moma-all.1" | sed -n 's/^\.It Cm //p' |
    sed 's/ Ns Ar stage//' | as_status)
  diff -u <(echo "$want") <(echo "$all_tab")
  # moma(7) OUTCOMES, Statuses.
  m7=$(sed -n '/^\.Ss Statuses$/,/^\.Ss /p' "$TOP/man/moma.7" | sed -n 's/^\.It Li //p' | as_status)
  diff -u <(echo "$want") <(echo "$m7")
  # README.md's table of statuses.
  readme=$(grep -oE '^\| `[a-z][a-zA-Z:-]*` \|' "$TOP/README.md" | tr -d '|` ' | as_status)
  diff -u <(echo "$want") <(echo "$readme")
}
