#!/usr/bin/env bats
# Every external command the scripts and tests call comes from a package
# that a scripts/dev/moma-deps group installs (with its dependencies), or from
# Debian's minbase, which a fresh machine has.  A command found only
# because this machine happens to have its package is what once broke
# make demo and make check on a new Debian 12 (curl, hexdump, ip, man).
#
# The commands are read off the files as words (comments dropped) that
# name an executable in /usr/bin, /usr/sbin, /bin or /sbin here; bash's
# builtins and keywords are not commands.  Each word's package is asked
# of dpkg; it passes if it is Essential or of Priority required (minbase)
# or in the Depends closure of the file's groups.

load helpers

# The groups each file's commands may come from: what is installed where
# that file runs.
declare -gA GROUPS_OF=(
  [demo]="build demo"       # make demo installs these, and runs these files
  [test]="build test"       # make check
  [bench]="build test bench"
  [fresh]="fresh"           # scripts/dev/check-fresh, on the host
  [systemd]="build demo"    # tests/systemd/run installs build demo
)
files_of() {
  case $1 in
  demo) echo scripts/dev/moma-demo scripts/dev/moma-pg scripts/dev/moma-s3-server scripts/dev/moma-sample scripts/moma-incr.sh \
    scripts/moma-zone scripts/moma-all scripts/moma-lib.sh ;;
  test) echo Makefile .ci/run scripts/dev/run-tests scripts/dev/check-size scripts/dev/check-unprivileged \
    tests/*.bats tests/helpers.bash tests/lib/*.bash ;;
  bench) echo tests/bench/run tests/bench/*.sh ;;
  fresh) echo scripts/dev/check-fresh ;;
  systemd) echo tests/systemd/run ;;
  esac
}

# closure GROUP...: the packages the groups install, with all they depend on.
# (DEPS: the moma-deps file to read, default scripts/dev/moma-deps)
closure() {
  local pkgs
  pkgs=$(for g in "$@"; do sed -n "s/^  \[$g\]=\"\(.*\)\"$/\1/p" "${DEPS:-$TOP/scripts/dev/moma-deps}"; done)
  [ -n "$pkgs" ] || return 1
  # shellcheck disable=SC2086
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances $pkgs 2>/dev/null | grep -v '^ ' | tr -d '<>' | sort -u
}

# words FILE...: the words in a command's place (a line's start, after a
# pipe, ;, &&, (, $(, !, a keyword, or a command that runs another:
# run, sudo, nice, xargs, timeout N...), comments left out.
words() {
  perl -ne 's/^\s*#.*//; s/\s#[^"\x27]*$//;
    while (/(?:^|[|;&({!`]|\$\(|\b(?:then|do|else|exec|time|run|run_split|sudo|nice|xargs|command -v|timeout [0-9.]+[smh]?|wait_for [0-9]+|runuser -u \S+ --|nsenter( -\S+)*|unshare( -\S+)*|chroot \S+))\s*([a-z][a-z0-9_.+-]*)(?![=\[\w.+-])(?!\s*[=!<>]=?\s)/g) { print "$+\n" }' "$@" |
    sort -u
}

# minbase PKG: Essential or Priority required, what mmdebstrap's minbase
# installs, and apt (make, git, ca-certificates and sudo come with a fresh
# machine).
minbase() {
  # apt is in every minbase, though bookworm's Packages say "important"
  # and some machines' status files "required"
  case $1 in make | git | ca-certificates | sudo | apt) return 0 ;; esac
  dpkg-query -W -f='${Essential} ${Priority}\n' "$1" 2>/dev/null | grep -qE '^yes |required$'
}

# uncovered: a line for each command that no group (of $DEPS) nor minbase
# provides: "KIND (FILES): COMMAND from PACKAGE".
uncovered() {
  cd "$TOP"
  local kind w d path owners pkg allowed
  declare -A pkg_of=()
  # every word that names an executable here, and the package of each, in
  # one dpkg -S (a call per word takes a minute)
  local -a paths=()
  declare -A path_of=()
  for kind in "${!GROUPS_OF[@]}"; do
    # shellcheck disable=SC2046
    for w in $(words $(files_of "$kind")); do
      [ -z "${path_of[$w]:-}" ] || continue
      case $(type -t "$w") in builtin | keyword) continue ;; esac
      for d in /usr/bin /usr/sbin /bin /sbin; do
        if [ -x "$d/$w" ] && [ ! -d "$d/$w" ]; then
          path_of[$w]=$(readlink -f "$d/$w")
          paths+=("${path_of[$w]}")
          break
        fi
      done
    done
  done
  # "pkg1, pkg2: /path" (merged /usr: a file may be known as /bin/x)
  owners=$(dpkg -S "${paths[@]}" "${paths[@]/#\/usr/}" 2>/dev/null | grep -v '^diversion ')
  for w in "${!path_of[@]}"; do
    pkg=$(awk -v p="${path_of[$w]}" -v q="${path_of[$w]#/usr}" -F': ' '$2 == p || $2 == q { print $1; exit }' <<<"$owners")
    pkg_of[$w]=${pkg%%[:,]*}
  done
  for kind in "${!GROUPS_OF[@]}"; do
    # shellcheck disable=SC2086
    allowed=$(closure ${GROUPS_OF[$kind]})
    [ "$(wc -l <<<"$allowed")" -gt 20 ] || { echo "closure of ${GROUPS_OF[$kind]}: too small: $allowed"; return 1; }
    # shellcheck disable=SC2046
    for w in $(words $(files_of "$kind")); do
      [ -n "${path_of[$w]:-}" ] || continue
      pkg=${pkg_of[$w]}
      [ -n "$pkg" ] || { echo "$kind: $w (${path_of[$w]}: no package owns it)"; continue; }
      minbase "$pkg" && continue
      grep -qxF "$pkg" <<<"$allowed" && continue
      # shellcheck disable=SC2046
      echo "$kind ($(grep -lw -- "$w" $(files_of "$kind") | head -n 3 | tr '\n' ' ' | sed 's/ $//')): $w from $pkg"
    done
  done
}

@test "the groups name packages Debian has" {
  local g p pkgs known missing=()
  for g in build test demo bench fresh; do
    pkgs=$(sed -n "s/^  \[$g\]=\"\(.*\)\"$/\1/p" "$TOP/scripts/dev/moma-deps")
    [ -n "$pkgs" ] || { echo "no group $g in scripts/dev/moma-deps"; return 1; }
    known=$(apt-cache show --no-all-versions $pkgs 2>/dev/null | sed -n 's/^Package: //p')
    for p in $pkgs; do
      grep -qxF "$p" <<<"$known" || missing+=("$g:$p")
    done
  done
  [ ${#missing[@]} -eq 0 ] || { echo "unknown to apt-cache: ${missing[*]}"; return 1; }
}

@test "every external command of the scripts and tests is in a moma-deps group or minbase" {
  run uncovered
  assert_status 0
  [ -z "$output" ] || { echo "not in a group of scripts/dev/moma-deps:"; echo "$output"; return 1; }
}

@test "the check above fails on a command whose package left its group (ip)" {
  DEPS=$BATS_TEST_TMPDIR/moma-deps
  sed 's/ iproute2 / /' "$TOP/scripts/dev/moma-deps" >"$DEPS"
  run grep -c iproute2 "$DEPS"
  [ "$output" = 0 ]
  run uncovered
  assert_status 0
  echo "$output"
  grep -qx 'test (.*): ip from iproute2' <<<"$output"
}
