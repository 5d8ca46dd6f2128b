#!/usr/bin/env bats
# The manual pages: mandoc -Tlint clean (the house style), no groff
# warning as groff renders them at its default width, every page the README
# links to exists, and moma(7) is linked from the README.

load helpers

@test "mandoc -Tlint -Wwarning: every page clean" {
  run mandoc -Tlint -Wwarning "$TOP"/man/*.[157]
  assert_status 0
  [ -z "$output" ]
}

@test "groff -ww at its default width (78 columns): no warning (can't break line, ...)" {
  for f in "$TOP"/man/*.[157]; do
    run --separate-stderr groff -k -ww -mandoc -Tutf8 "$f"
    assert_status 0
    [ -z "$stderr" ] || { echo "$f: $stderr" >&2; return 1; }
    [ "${#lines[@]}" -gt 20 ]
  done
}

@test "README links only to pages that exist, moma(7) among them" {
  links=$(grep -o '(man/[^)]*)' "$TOP/README.md" | tr -d '()' | sort -u)
  [ -n "$links" ]
  for l in $links; do [ -f "$TOP/$l" ] || { echo "README links to missing $l" >&2; return 1; }; done
  grep -qx 'man/moma.7' <<<"$links"
}
