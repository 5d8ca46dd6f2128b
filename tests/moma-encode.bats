#!/usr/bin/env bats
# moma-encode: frames in, sections out; round trip, independent check,
# segmentation, and the bad-input catalogue.

load helpers

setup() {
  cd "$BATS_TEST_TMPDIR"
}

# Project input messages and decoded sections onto the same fields.
project_input='select(.type != "header") | [.campagne_id, .numero_abonne, .template_id, .genre,
  .ack_count, .ack_delay, (.valid_start | if type == "number" then todate else . end),
  (.valid_end | if type == "number" then todate else . end)] | @tsv'
project_sections='select(.storables) | [.message_id, .target_filter, .template_id, .genre,
  .ack_count, .ack_delay, .valid_start, .valid_end] | @tsv'

@test "--help, --version and bad usage" {
  run "$ENCODE" --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"usage: moma-encode"* ]]
  run "$ENCODE" --version
  [ "$status" -eq 0 ]
  [[ "$output" =~ ^moma-encode\ [0-9] ]]
  run "$ENCODE" --no-such-option
  [ "$status" -eq $EX_USAGE ]
  run "$ENCODE" --max-section 42
  [ "$status" -eq $EX_USAGE ]
  [[ "$output" == *"--max-section"*"43..4096"* ]]
  run "$ENCODE" /nonexistent/file
  [ "$status" -eq $EX_NOINPUT ]
}

@test "round trip: 2000 random messages, every field comes back" {
  "$GEN" -n 2000 -s 7 > in.jsonl
  frames_of in.jsonl in.frames
  "$ENCODE" in.frames > out.bin
  "$DUMP" out.bin > out.jsonl
  [ "$(wc -l < out.jsonl)" -eq 2000 ]
  jq -r "$project_input" in.jsonl > want.tsv
  jq -r "$project_sections" out.jsonl > got.tsv
  diff -u want.tsv got.tsv
  # storables key order differs (input order vs tag order): compare sorted
  jq -c -S 'select(.type != "header") | .storables' in.jsonl > want.sto
  jq -c -S 'select(.storables) | .storables' out.jsonl > got.sto
  [ "$(wc -l < want.sto)" -eq 2000 ]
  diff -u want.sto got.sto
}

@test "independent check: biTStream walks every section, CRCs good, fields agree" {
  "$GEN" -n 500 -s 3 > in.jsonl
  frames_of in.jsonl in.frames
  "$ENCODE" in.frames > out.bin
  "$SECCHECK" < out.bin > check.tsv
  [ "$(wc -l < check.tsv)" -eq 500 ]
  ! grep -q crc-BAD check.tsv
  awk -F'\t' '$2 != "0x92" { exit 1 }' check.tsv
  # target_filter, network_id, message_id, template_id, valid_start, valid_end
  cut -f6-11 check.tsv > got.tsv
  jq -r 'select(.type != "header") | [.numero_abonne, 1, .campagne_id, .template_id,
    (.valid_start | gmtime | strftime("%Y-%m-%d %H:%M:%S UTC")),
    (.valid_end | gmtime | strftime("%Y-%m-%d %H:%M:%S UTC"))] | @tsv' in.jsonl > want.tsv
  diff -u want.tsv got.tsv
  # and the byte count adds up: sections are back to back, nothing else
  [ "$(awk -F'\t' '{ s += $3 + 3 } END { print s }' check.tsv)" -eq "$(stat -c %s out.bin)" ]
}

@test "segmentation: --max-section splits messages, reassembly gives the storables back" {
  long=$(printf 'é%.0s' $(seq 1 120))   # 240 bytes of UTF-8
  { one_message "{\"id\":1,\"storables\":{\"titre\":\"$long\",\"texte\":\"$long\",\"nom\":\"$long\"}}"
    one_message '{"id":2,"storables":{"prix":1}}'; } > in.jsonl
  frames_of in.jsonl in.frames
  "$ENCODE" --max-section 100 in.frames > out.bin
  "$DUMP" out.bin > out.jsonl
  # message 1: 3 texts of 2+1+240 bytes = 729 body bytes, 58 per section
  [ "$(jq -s '[.[] | select(.target_filter == 123456 and .total_count > 1)] | length' out.jsonl)" -eq 13 ]
  jq -e -s 'all(.[]; .section_length + 3 <= 100)' out.jsonl
  jq -e -s '[.[] | .index] == ([range(0;13)] + [0])' out.jsonl
  "$SECCHECK" < out.bin > /dev/null
  jq -c -S 'select(.storables) | .storables' out.jsonl > got
  jq -c -S '.storables' in.jsonl > want
  diff -u want got
}

@test "a message needing more than 255 sections is refused, naming it" {
  t=$(printf 'x%.0s' $(seq 1 250))
  one_message "{\"id\":99,\"storables\":{\"titre\":\"$t\",\"texte\":\"$t\"}}" > in.jsonl
  frames_of in.jsonl in.frames
  run_split "$ENCODE" --max-section 43 in.frames
  assert_status $EX_DATAERR
  [[ "$stderr" == "moma-encode: frame 1 (message 99): body of 506 bytes needs more than 255 sections"* ]]
}

@test "hexdump shows the frame magic, header and trailer" {
  one_message > in.jsonl
  frames_of in.jsonl in.frames
  hexdump -C in.frames > hex
  head -1 hex | grep -q '|MOMAFRM..*H'
  # trailer: length 13, 'E', count 1, then the checksum
  size=$(stat -c %s in.frames)
  [ "$(od -An -tx1 -j $((size - 17)) -N 13 in.frames | tr -d ' \n')" = "0000000d450000000000000001" ]
}

@test "an empty zone (header and trailer only) gives an empty carousel" {
  printf '{"type":"header","network_id":2,"date":"2026-11-22"}\n' > in.jsonl
  frames_of in.jsonl in.frames
  run_split "$ENCODE" --stats in.frames
  assert_status 0
  [ -z "$output" ]
  [[ "$stderr" == *"records=0 sections=0"* ]]
}

@test "--stats reports records, sections, bytes, blocked time and peak RSS" {
  "$GEN" -n 100 > in.jsonl
  frames_of in.jsonl in.frames
  "$ENCODE" --stats in.frames 2> err > out.bin
  grep -Eq '^moma-encode: stats: records=100 sections=100 bytes_in=[0-9]+ bytes_out='"$(stat -c %s out.bin)"' wall=[0-9.]+ cpu=[0-9.]+ .*blocked_in=[0-9.]+ blocked_out=[0-9.]+ maxrss_kib=[0-9]+ rejected=0$' err
}

# stat_val FILE KEY: the value of KEY in a --stats-file (exactly one line).
stat_val() {
  [ "$(grep -c "^$2=" "$1")" -eq 1 ] || { echo "$1: not one $2= line" >&2; return 1; }
  sed -n "s/^$2=//p" "$1"
}

@test "--stats-file: the --stats keys one a line, values the streams hold, exit=0" {
  "$GEN" -n 300 -s 5 > in.jsonl
  frames_of in.jsonl in.frames
  "$ENCODE" --max-section 200 --stats --stats-file st in.frames 2> err > out.bin
  # The keys, in order, one per line, numbers only, exit last.
  [ "$(cut -d= -f1 st | tr '\n' ' ')" = "records sections bytes_in bytes_out wall cpu user sys blocked_in blocked_out maxrss_kib rejected exit " ]
  ! grep -vE '^[a-z_]+=[0-9]+(\.[0-9]+)?$' st
  # The same pairs as the --stats line.
  # The keys of the --stats line, in its order (its times are taken a moment
  # before the file's, so only the counts below can be compared).
  [ "$(sed 's/^moma-encode: stats: //; s/=[^ ]*//g' err)" = "$(grep -v '^exit=' st | cut -d= -f1 | tr '\n' ' ' | sed 's/ $//')" ]
  # records: the trailer's count; sections: what moma-dump finds; bytes: the files'.
  [ "$(stat_val st records)" -eq "$("$DUMP" in.frames | jq -r 'select(.type == "end") | .count')" ]
  [ "$(stat_val st records)" -eq 300 ]
  [ "$(stat_val st sections)" -eq "$("$DUMP" out.bin | wc -l)" ]
  [ "$(stat_val st sections)" -gt 300 ]   # 200-byte sections: some messages split
  [ "$(stat_val st bytes_in)" -eq "$(stat -c %s in.frames)" ]
  [ "$(stat_val st bytes_out)" -eq "$(stat -c %s out.bin)" ]
  [ "$(stat_val st rejected)" -eq 0 ]
  [ "$(stat_val st exit)" -eq 0 ]
  [ "$(stat_val st maxrss_kib)" -gt 0 ]
  # Only st in the directory: the temporary file was renamed.
  [ "$(ls | grep -c '^st')" -eq 1 ]
}

@test "--stats-file: with --ts, packets; with -R and --fail-on-reject, rejected and exit=65" {
  "$GEN" -n 20 > in.jsonl
  frames_of in.jsonl in.frames
  "$ENCODE" --ts --pid 0x100 --pat --stats-file st in.frames > out.ts
  [ "$(stat_val st packets)" -eq $(($(stat -c %s out.ts) / 188)) ]
  [ "$(tail -n 2 st | head -n 1)" = "packets=$(stat_val st packets)" ]
  { one_message '{"id":1}'; one_message '{"id":2,"genre":300}'; one_message '{"id":3}'; } > in.jsonl
  frames_of in.jsonl in.frames
  run_split "$ENCODE" -R rej.frames --fail-on-reject --stats-file st in.frames
  assert_status $EX_DATAERR
  [ "$(stat_val st records)" -eq 3 ]
  [ "$(stat_val st sections)" -eq 2 ]
  [ "$(stat_val st rejected)" -eq 1 ]
  [ "$(stat_val st exit)" -eq $EX_DATAERR ]
}

@test "--stats-file on an error exit: what was counted, exit=65; an old file replaced" {
  { one_message '{"id":1}'; one_message '{"id":2}'; } > in.jsonl
  frames_of in.jsonl in.frames
  size=$(stat -c %s in.frames)
  head -c $((size - 17)) in.frames > cut.frames
  echo stale > st
  run_split "$ENCODE" --stats-file st cut.frames
  assert_status $EX_DATAERR
  [[ "$stderr" == *"no end trailer after 2 messages" ]]
  [ "$(stat_val st records)" -eq 2 ]
  [ "$(stat_val st bytes_in)" -eq $((size - 17)) ]
  [ "$(stat_val st exit)" -eq $EX_DATAERR ]
  ! grep -q stale st
  [ "$(ls | grep -c '^st')" -eq 1 ]
}

@test "--stats-file that cannot be created: exit 73 before reading, no output" {
  "$GEN" -n 5 > in.jsonl
  frames_of in.jsonl in.frames
  run_split "$ENCODE" --stats-file "$BATS_TEST_TMPDIR/no/such/dir/st" in.frames
  assert_status $EX_CANTCREAT
  [ -z "$output" ]
  [[ "$stderr" == "moma-encode: --stats-file $BATS_TEST_TMPDIR/no/such/dir/st: No such file or directory" ]]
}

# ---- bad input: each names what and where, exit 65 -----------------------

bad_frames() {   # bad_frames FIELDS_JSON: in.frames with one bad message
  { one_message '{"id":1}'; one_message "$1"; } > in.jsonl
  frames_of in.jsonl in.frames
}

@test "bad input: empty input" {
  run_split "$ENCODE" < /dev/null
  assert_status $EX_DATAERR
  [[ "$stderr" == "moma-encode: byte 0: empty input, not a frame stream" ]]
}

@test "bad input: wrong magic (a carousel given to the encoder)" {
  one_message > in.jsonl
  frames_of in.jsonl in.frames
  "$ENCODE" in.frames > out.bin
  run_split "$ENCODE" out.bin
  assert_status $EX_DATAERR
  [[ "$stderr" == "moma-encode: byte 0: not a moma frame stream"* ]]
  [ -z "$output" ]
}

@test "bad input: JSON lines (moma-dump's text) point to moma-dump -r" {
  one_message > in.jsonl
  run --separate-stderr "$ENCODE" in.jsonl
  [ "$status" -eq $EX_DATAERR ]
  [ -z "$output" ]
  [[ "$stderr" == 'moma-encode: byte 0: not a moma frame stream (bad magic, want "MOMAFRM\n"); this looks like JSON lines: turn them into frames with moma-dump -r' ]]
  # a stream that is neither gets no such advice
  printf 'MOMA' | { run --separate-stderr "$ENCODE"; [ "$status" -eq $EX_DATAERR ]; [[ "$stderr" != *"moma-dump -r"* ]]; }
  frames_of in.jsonl in.frames
  "$ENCODE" in.frames > out.bin
  [ -s out.bin ]
}

@test "bad input: truncated header" {
  one_message > in.jsonl
  frames_of in.jsonl in.frames
  head -c 20 in.frames > cut.frames
  run_split "$ENCODE" cut.frames
  assert_status $EX_DATAERR
  [[ "$stderr" == "moma-encode: byte 8: truncated stream: header record"* ]]
}

@test "bad input: truncated record names the frame and message" {
  { one_message '{"id":1}'; one_message '{"id":2}'; } > in.jsonl
  frames_of in.jsonl in.frames
  size=$(stat -c %s in.frames)
  head -c $((size - 17 - 30)) in.frames > cut.frames
  run_split "$ENCODE" cut.frames
  assert_status $EX_DATAERR
  [[ "$stderr" == "moma-encode: byte "*": frame 2: truncated stream: record of "*" (message 2)" ]]
}

@test "bad input: missing trailer (upstream died between records)" {
  { one_message '{"id":1}'; one_message '{"id":2}'; } > in.jsonl
  frames_of in.jsonl in.frames
  size=$(stat -c %s in.frames)
  head -c $((size - 17)) in.frames > cut.frames
  run_split "$ENCODE" cut.frames
  assert_status $EX_DATAERR
  [[ "$stderr" == "moma-encode: byte $((size - 17)): truncated stream: no end trailer after 2 messages" ]]
}

@test "bad input: trailer count mismatch" {
  one_message > in.jsonl
  frames_of in.jsonl in.frames
  size=$(stat -c %s in.frames)
  patch_byte in.frames $((size - 5)) 2
  run_split "$ENCODE" in.frames
  assert_status $EX_DATAERR
  [[ "$stderr" == *"end trailer counts 2 messages, the stream has 1" ]]
}

@test "bad input: a flipped byte fails the checksum" {
  one_message > in.jsonl
  frames_of in.jsonl in.frames
  hlen=$(( $(byte_at in.frames 10) * 256 + $(byte_at in.frames 11) ))
  # template_id's low byte in the first message: valid either way, so only
  # the checksum can tell
  patch_byte in.frames $((8 + 4 + hlen + 5 + 43)) 9
  run_split "$ENCODE" in.frames
  assert_status $EX_DATAERR
  [[ "$stderr" == *"end trailer checksum 0x"*", the stream sums to 0x"* ]]
}

@test "bad input: record length over the maximum is refused before allocating" {
  one_message > in.jsonl
  frames_of in.jsonl in.frames
  hlen=$(( $(byte_at in.frames 10) * 256 + $(byte_at in.frames 11) ))
  off=$((8 + 4 + hlen))           # first message record's length field
  patch_byte in.frames $off 127
  run_split "$ENCODE" in.frames
  assert_status $EX_DATAERR
  [[ "$stderr" == "moma-encode: byte $off: frame 1: record length "*" out of range 1..1048576" ]]
}

@test "bad input: data after the trailer" {
  one_message > in.jsonl
  frames_of in.jsonl in.frames
  printf 'x' >> in.frames
  run_split "$ENCODE" in.frames
  assert_status $EX_DATAERR
  [[ "$stderr" == *"data after the end trailer" ]]
}

@test "bad input: invalid JSON in storables" {
  { one_message '{"id":1}'; one_message '{"id":42}' | jq -c 'del(.storables) + {storables_raw: "{\"titre\": "}'; } > in.jsonl
  frames_of in.jsonl in.frames
  run_split "$ENCODE" in.frames
  assert_status $EX_DATAERR
  [[ "$stderr" == "moma-encode: frame 2 (message 42): storables: invalid JSON at byte 10: unterminated string" ]] ||
  [[ "$stderr" == "moma-encode: frame 2 (message 42): storables: invalid JSON at byte 10: "* ]]
}

@test "bad input: unknown key (no tag in the registry)" {
  bad_frames '{"id":43,"storables":{"titre":"a","couleur_fond":3}}'
  run_split "$ENCODE" in.frames
  assert_status $EX_DATAERR
  [[ "$stderr" == 'moma-encode: frame 2 (message 43): storables: unknown key "couleur_fond"' ]]
}

@test "bad input: text too long" {
  t=$(printf 'a%.0s' $(seq 1 255))
  bad_frames "{\"id\":44,\"storables\":{\"texte\":\"$t\"}}"
  run_split "$ENCODE" in.frames
  assert_status $EX_DATAERR
  [[ "$stderr" == 'moma-encode: frame 2 (message 44): storables: key "texte": text of 255 bytes exceeds 254' ]]
}

@test "bad input: invalid UTF-8 in a text" {
  hex=$(printf '{"titre":"caf\xe9"}' | od -An -tx1 | tr -d ' \n')
  { one_message '{"id":1}'; one_message '{"id":45}' | jq -c "del(.storables) + {storables_hex: \"$hex\"}"; } > in.jsonl
  frames_of in.jsonl in.frames
  run_split "$ENCODE" in.frames
  assert_status $EX_DATAERR
  [[ "$stderr" == 'moma-encode: frame 2 (message 45): storables: invalid JSON at byte 13: invalid UTF-8' ]]
}

@test "bad input: subscriber number above 2^32-1" {
  bad_frames '{"id":46,"numero_abonne":4294967296}'
  run_split "$ENCODE" in.frames
  assert_status $EX_DATAERR
  [[ "$stderr" == 'moma-encode: frame 2 (message 46): numero_abonne 4294967296 out of range 0..4294967295' ]]
}

@test "bad input: dates outside the 16-bit MJD range" {
  bad_frames '{"id":47,"valid_end":"2038-04-23T00:00:00Z"}'
  run_split "$ENCODE" in.frames
  assert_status $EX_DATAERR
  [[ "$stderr" == 'moma-encode: frame 2 (message 47): valid_end 2038-04-23T00:00:00Z out of range 1858-11-17..2038-04-22 (the DVB date range, 16-bit MJD)' ]]
  bad_frames '{"id":48,"valid_start":"1858-11-16T23:59:59Z"}'
  run_split "$ENCODE" in.frames
  assert_status $EX_DATAERR
  [[ "$stderr" == 'moma-encode: frame 2 (message 48): valid_start 1858-11-16T23:59:59Z out of range'* ]]
  # the last second that fits is fine
  bad_frames '{"id":49,"valid_end":"2038-04-22T23:59:59Z"}'
  "$ENCODE" in.frames > /dev/null
}

@test "bad input: other fields out of the section's widths" {
  for f in '"genre":256' '"ack_count":-1' '"ack_delay":65536' '"campagne_id":4294967296' '"template_id":-1'; do
    bad_frames "{\"id\":50,$f}"
    run_split "$ENCODE" in.frames
    assert_status $EX_DATAERR
    [[ "$stderr" == "moma-encode: frame 2 (message 50): ${f%%\"*}"*"out of range"* ]] ||
      [[ "$stderr" == "moma-encode: frame 2 (message 50): $(echo "$f" | cut -d'"' -f2) "*"out of range"* ]]
  done
}

@test "-R: bad messages go to a frame stream, the rest is encoded, exit 0" {
  { one_message '{"id":1}'; one_message '{"id":2,"numero_abonne":-1}'
    one_message '{"id":3}'; one_message '{"id":4,"storables":{"nope":1}}'
    one_message '{"id":5}'; } > in.jsonl
  frames_of in.jsonl in.frames
  run_split sh -c "'$ENCODE' -R rej.frames in.frames > out.bin"
  assert_status 0
  [[ "$stderr" == *"frame 2 (message 2): numero_abonne -1 out of range 0..4294967295 (rejected)"* ]]
  [[ "$stderr" == *"frame 4 (message 4): storables: unknown key \"nope\" (rejected)"* ]]
  [[ "$stderr" == *"2 of 5 records rejected to rej.frames" ]]
  [ "$("$DUMP" out.bin | wc -l)" -eq 3 ]
  "$DUMP" rej.frames > rej.jsonl
  [ "$(jq -r 'select(.type == "message") | .id' rej.jsonl | tr '\n' ' ')" = "2 4 " ]
  [ "$(jq -r 'select(.type == "end") | .count' rej.jsonl)" -eq 2 ]
  # --fail-on-reject: same output, exit 65
  run_split sh -c "'$ENCODE' -R rej2.frames --fail-on-reject in.frames > out2.bin"
  assert_status $EX_DATAERR
  cmp rej.frames rej2.frames
  cmp out.bin out2.bin
}

@test "--reject-log: one JSON line per bad message (id, campagne_id, stage, frame, reason); --max-reject" {
  { one_message '{"id":1}'; one_message '{"id":2,"campagne_id":78,"storables":{"titre":12}}'
    one_message '{"id":3}'; one_message '{"id":4,"storables":{"titre":"x","inconnu\u00e9\"":1}}'
    one_message '{"id":5,"valid_end":"2040-01-01T00:00:00Z"}'; one_message '{"id":6}'; } > in.jsonl
  frames_of in.jsonl in.frames
  run_split sh -c "'$ENCODE' --reject-log rej.jsonl --stats in.frames > out.bin"
  assert_status 0
  [[ "$stderr" == *"frame 2 (message 2): storables: key \"titre\": expected a string (rejected)"* ]]
  [[ "$stderr" == *" rejected=3"* ]]
  [ "$(jq -r '[.id, .campagne_id, .stage, .frame] | @tsv' rej.jsonl)" = "$(printf '2\t78\tmoma-encode\t2\n4\t77\tmoma-encode\t4\n5\t77\tmoma-encode\t5')" ]
  [ "$(jq -r 'select(.id == 2) | .reason' rej.jsonl)" = 'storables: key "titre": expected a string' ]
  # a reason quoting storables is still one valid JSON string: the key as the error shows it
  [ "$(jq -r 'select(.id == 4) | .reason' rej.jsonl)" = 'storables: unknown key "inconnué\""' ]
  [[ "$(jq -r 'select(.id == 5) | .reason' rej.jsonl)" == "valid_end 2040-01-01T00:00:00Z out of range "* ]]
  # the same carousel as without the bad messages
  grep -v -e '"id":2,' -e '"id":4,' -e '"id":5,' in.jsonl > good.jsonl
  frames_of good.jsonl good.frames
  "$ENCODE" good.frames > want.bin
  cmp want.bin out.bin
  # with -R too, both get every bad message
  run_split sh -c "'$ENCODE' -R rej.frames --reject-log rej2.jsonl in.frames > out2.bin"
  assert_status 0
  cmp rej.jsonl rej2.jsonl
  [ "$("$DUMP" rej.frames | jq -r 'select(.type == "message") | .id' | tr '\n' ' ')" = "2 4 5 " ]
  # --max-reject 3: all three allowed; 2: the third stops the run
  run_split sh -c "'$ENCODE' --reject-log rej3.jsonl --max-reject 3 in.frames > out3.bin"
  assert_status 0
  cmp out.bin out3.bin
  run_split sh -c "'$ENCODE' --reject-log rej4.jsonl --max-reject 2 --stats-file st in.frames > out4.bin"
  assert_status $EX_DATAERR
  [[ "$stderr" == *"moma-encode: frame 5 (message 5): more than 2 messages rejected (--max-reject); stopping" ]]
  [ "$(wc -l < rej4.jsonl)" -eq 3 ]
  grep -qx 'rejected=3' st
  grep -qx 'exit=65' st
  # an empty log for a clean input; 64 for a bad count; 73 for a log that cannot be made
  frames_of good.jsonl good.frames
  run_split sh -c "'$ENCODE' --reject-log rej5.jsonl good.frames > /dev/null"
  assert_status 0
  [ -e rej5.jsonl ] && [ ! -s rej5.jsonl ]
  run_split "$ENCODE" --max-reject -1 good.frames
  assert_status $EX_USAGE
  run_split sh -c "'$ENCODE' --reject-log /nonexistent/dir/x good.frames > /dev/null"
  assert_status $EX_CANTCREAT
}

@test "a write error is reported and exits 74 (141 for a reader gone), never 0" {
  "$GEN" -n 100 > in.jsonl
  frames_of in.jsonl in.frames
  run_split sh -c "'$ENCODE' in.frames > /dev/full"
  assert_status $EX_IOERR
  [[ "$stderr" == "moma-encode: write error: No space left on device" ]]
  # a reader that goes away is a write error too, not a silent death; its
  # own status, 141 as for a death by SIGPIPE, tells moma-zone the stage
  # is a victim (moma-encode(1) EXIT STATUS)
  "$GEN" -n 200000 -t frames > big.frames
  set +e
  "$ENCODE" big.frames 2> err | head -c 10 > /dev/null
  rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" -eq 141 ]
  grep -q "moma-encode: write error: Broken pipe" err
}

@test "moma-dump: a reader gone (EPIPE on stdout) exits 141, another write error 74" {
  "$GEN" -n 200000 -t frames > big.frames
  run bash -c '"$1" big.frames | head -c 1 > /dev/null; echo "${PIPESTATUS[0]}"' _ "$DUMP"
  [ "${lines[-1]}" = 141 ]
  [[ $output == *"moma-dump: write error: Broken pipe"* ]]
  run bash -c '"$1" big.frames > /dev/full' _ "$DUMP"
  [ "$status" -eq 74 ]
}
