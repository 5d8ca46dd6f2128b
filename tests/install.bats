#!/usr/bin/env bats
# make install / uninstall into a DESTDIR: every file where moma(7) says,
# the systemd units with the paths substituted and accepted by
# systemd-analyze verify, configuration never overwritten nor removed.

load helpers

setup_file() {
  export DEST=$BATS_FILE_TMPDIR/root
  # the release build make install wants, once for the file
  make -s -C "$TOP" install DESTDIR="$DEST" PREFIX=/usr/local >/dev/null
}

UNITS=(moma-zone@.service moma-all.service moma-all.timer)

@test "make install puts the tools, scripts, pages, schema, units and configuration in place" {
  p=$DEST/usr/local
  for f in bin/moma-fetch bin/moma-encode bin/moma-put bin/moma-dump bin/moma-zone bin/moma-all; do
    [ -x "$p/$f" ]
  done
  for f in man1/moma-fetch.1 man1/moma-zone.1 man5/moma-frame.5 man5/moma-section.5 man7/moma.7; do
    [ -f "$p/share/man/$f" ]
  done
  cmp "$TOP/scripts/schema.sql" "$p/share/moma/schema.sql"
  cmp "$TOP/scripts/zones.conf" "$p/etc/moma/zones.conf"
  [ "$(stat -c %a "$p/etc/moma/moma.env")" = 600 ]   # it will hold credentials
  for u in "${UNITS[@]}"; do [ -f "$p/lib/systemd/system/$u" ]; done
}

@test "the installed moma-zone and moma-all find their library and version" {
  p=$DEST/usr/local
  [ -f "$p/lib/moma/moma-lib.sh" ]
  [ -f "$p/lib/moma/moma-incr.sh" ]
  cmp "$TOP/scripts/moma-tracking.sql" "$p/share/moma/moma-tracking.sql"
  [ -f "$p/share/moma/moma-tracking-off.sql" ]
  run "$p/bin/moma-zone" --version
  assert_status 0
  [ "$output" = "moma-zone $(cat "$TOP/scripts/VERSION")" ]
  run "$p/bin/moma-all" --version
  assert_status 0
  [ "$output" = "moma-all $(cat "$TOP/scripts/VERSION")" ]
  # the same version as the tools built with it
  [ "$("$p/bin/moma-put" --version)" = "moma-put $(cat "$TOP/scripts/VERSION")" ]
}

@test "the installed units name the installed paths, no placeholder left" {
  u=$DEST/usr/local/lib/systemd/system
  run grep -l '@[A-Z]*@' "$u"/*
  [ "$status" -eq 1 ]
  grep -qx 'ExecStart=/usr/local/bin/moma-zone %I' "$u/moma-zone@.service"
  grep -qx 'EnvironmentFile=/usr/local/etc/moma/moma.env' "$u/moma-zone@.service"
  grep -q '^ExecStart=/usr/local/bin/moma-all ' "$u/moma-all.service"
  grep -qx 'Persistent=true' "$u/moma-all.timer"
  for f in "$u/moma-zone@.service" "$u/moma-all.service"; do
    for k in NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes User=moma; do
      grep -qx "$k" "$f"
    done
  done
}

@test "systemd-analyze verify accepts the installed units, silently" {
  command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing: scripts/dev/moma-deps test" >&2; return 1; }
  # verify --root resolves the units' dependencies (sysinit.target...)
  # and ExecStart= inside the root: give it the system's own units.
  mkdir -p "$DEST/usr/lib/systemd"
  cp -r /usr/lib/systemd/system "$DEST/usr/lib/systemd/"
  u=$DEST/usr/local/lib/systemd/system
  # MANPATH: Documentation=man:... pages are checked, the installed ones.
  run env MANPATH="$DEST/usr/local/share/man" systemd-analyze verify --root="$DEST" \
    "$u/moma-zone@3.service" "$u/moma-all.service" "$u/moma-all.timer"
  assert_status 0
  [ -z "$output" ]
  # and the hardening holds: systemd's own exposure score says OK or SAFE
  for s in moma-zone@.service moma-all.service; do
    run systemd-analyze security --offline=true --root="$DEST" "$u/$s"
    [[ ${lines[-1]} =~ exposure\ level\ for\ .*:\ [0-9.]+\ (OK|SAFE) ]] || { echo "${lines[-1]}" >&2; return 1; }
  done
}

@test "the example moma.env: sh reads quoted values whole; only NAME=value lines, as EnvironmentFile wants" {
  env_file=$DEST/usr/local/etc/moma/moma.env
  run sh -c 'set -a; . "$1"; printf "%s|%s|%s\n" "$PGOPTIONS" "$MOMA_ALL_OPTS" "$MOMA_BUCKET"' _ "$env_file"
  assert_status 0
  [ "$output" = "-c statement_timeout=30min|-j 2 -r 1|carousels" ]
  # systemd's EnvironmentFile: NAME=value lines only (comments, blanks)
  run grep -Ev '^(#.*|[A-Z_][A-Z0-9_]*=.*|)$' "$env_file"
  [ "$status" -eq 1 ]
}

@test "make install keeps an edited moma.env and zones.conf; uninstall removes the rest, keeps those" {
  e=$DEST/usr/local/etc/moma
  echo "MOMA_BUCKET=mine" > "$e/moma.env"
  echo "9 Neuf" > "$e/zones.conf"
  make -s -C "$TOP" install DESTDIR="$DEST" PREFIX=/usr/local >/dev/null
  [ "$(cat "$e/moma.env")" = MOMA_BUCKET=mine ]
  [ "$(cat "$e/zones.conf")" = "9 Neuf" ]
  make -s -C "$TOP" uninstall DESTDIR="$DEST" PREFIX=/usr/local >/dev/null
  left=$(cd "$DEST/usr/local" && find . -type f | sort)
  [ "$left" = "$(printf './etc/moma/moma.env\n./etc/moma/zones.conf')" ] || { echo "left: $left" >&2; return 1; }
}
