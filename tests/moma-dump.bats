#!/usr/bin/env bats
# moma-dump: frames and sections to JSON lines (checked), and -r back.

load helpers

setup() {
  cd "$BATS_TEST_TMPDIR"
}

@test "--help, --version and bad usage" {
  run "$DUMP" --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"usage: moma-dump"* ]]
  run "$DUMP" --version
  [[ "$output" =~ ^moma-dump\ [0-9] ]]
  run "$DUMP" -n 0
  [ "$status" -eq $EX_USAGE ]
  run "$DUMP" -t nonsense
  [ "$status" -eq $EX_USAGE ]
  run "$DUMP" -r -n 3
  [ "$status" -eq $EX_USAGE ]
}

# stat_val FILE KEY: the value of KEY in a --stats-file (exactly one line).
stat_val() {
  [ "$(grep -c "^$2=" "$1")" -eq 1 ] || { echo "$1: not one $2= line" >&2; return 1; }
  sed -n "s/^$2=//p" "$1"
}

@test "--stats-file: the --stats keys one a line, records = the trailer's count, exit=0" {
  "$GEN" -n 40 > in.jsonl
  frames_of in.jsonl in.frames
  "$DUMP" --stats --stats-file st in.frames > out.jsonl 2> err
  [ "$(cut -d= -f1 st | tr '\n' ' ')" = "records lines bytes_in bytes_out wall cpu user sys blocked_in blocked_out maxrss_kib exit " ]
  ! grep -vE '^[a-z_]+=[0-9]+(\.[0-9]+)?$' st
  # The keys of the --stats line, in its order (its times are taken a moment
  # before the file's, so only the counts below can be compared).
  [ "$(sed 's/^moma-dump: stats: //; s/=[^ ]*//g' err)" = "$(grep -v '^exit=' st | cut -d= -f1 | tr '\n' ' ' | sed 's/ $//')" ]
  [ "$(stat_val st records)" -eq "$(jq -r 'select(.type == "end") | .count' out.jsonl)" ]
  [ "$(stat_val st records)" -eq 40 ]
  [ "$(stat_val st lines)" -eq "$(wc -l < out.jsonl)" ]
  [ "$(stat_val st bytes_in)" -eq "$(stat -c %s in.frames)" ]
  [ "$(stat_val st bytes_out)" -eq "$(stat -c %s out.jsonl)" ]
  [ "$(stat_val st exit)" -eq 0 ]
  # -r: messages instead of lines, both the frames written
  "$DUMP" -r --stats-file st < in.jsonl > back.frames
  [ "$(cut -d= -f1 st | head -n 2 | tr '\n' ' ')" = "records messages " ]
  [ "$(stat_val st messages)" -eq 40 ]
  [ "$(stat_val st bytes_out)" -eq "$(stat -c %s back.frames)" ]
  [ "$(ls | grep -c '^st')" -eq 1 ]
}

@test "--stats-file on an error exit: exit=65, the lines flushed at exit counted" {
  "$GEN" -n 3 > in.jsonl
  frames_of in.jsonl in.frames
  size=$(stat -c %s in.frames)
  head -c $((size - 17)) in.frames > cut.frames
  run_split sh -c "'$DUMP' --stats-file st cut.frames > out.jsonl"
  assert_status $EX_DATAERR
  [ "$(wc -l < out.jsonl)" -eq 4 ]   # the header and 3 messages, no end
  [ "$(stat_val st records)" -eq 3 ]
  [ "$(stat_val st lines)" -eq 4 ]
  [ "$(stat_val st bytes_out)" -eq "$(stat -c %s out.jsonl)" ]
  [ "$(stat_val st exit)" -eq $EX_DATAERR ]
  run_split "$DUMP" --stats-file no/such/dir/st in.frames
  assert_status $EX_CANTCREAT
  [ -z "$output" ]
  [[ "$stderr" == "moma-dump: --stats-file no/such/dir/st: No such file or directory" ]]
}

@test "frames: header, one line per message, end with count and checksum" {
  "$GEN" -n 25 -z 4 > in.jsonl
  frames_of in.jsonl in.frames
  "$DUMP" in.frames > out.jsonl
  [ "$(wc -l < out.jsonl)" -eq 27 ]
  jq -e -s '.[0].type == "header" and .[0].network_id == 4 and .[0].zone == "zone-4"
            and .[0].date == "2026-11-01" and .[0].version == 1' out.jsonl
  jq -e -s '.[-1].type == "end" and .[-1].count == 25 and (.[-1].checksum | test("^0x[0-9a-f]{8}$"))' out.jsonl
  jq -e -s '[.[1:-1][] | .frame] == [range(1;26)]' out.jsonl
}

@test "frames -> JSON -> frames -> JSON is lossless" {
  "$GEN" -n 300 -s 11 > in.jsonl
  frames_of in.jsonl a.frames
  "$DUMP" a.frames > a.jsonl
  "$DUMP" -r a.jsonl > b.frames
  "$DUMP" b.frames > b.jsonl
  diff -u a.jsonl b.jsonl
}

@test "bytes that are not JSON survive the round trip as storables_hex" {
  hex=$(printf '{"titre":"caf\xe9"' | od -An -tx1 | tr -d ' \n')
  one_message | jq -c "del(.storables) + {storables_hex: \"$hex\"}" > in.jsonl
  frames_of in.jsonl a.frames
  "$DUMP" a.frames > a.jsonl
  jq -e -s ".[1].storables_hex == \"$hex\" and (.[1].storables_error | length > 0)" a.jsonl
  "$DUMP" -r a.jsonl > b.frames
  cmp <(tail -c +30 a.frames) <(tail -c +30 b.frames)
}

@test "sections: every field decoded, CRC shown, storables on the last segment" {
  one_message '{"storables":{"titre":"Noël","bip":true,"offre":3,"nom":"Ève"}}' > in.jsonl
  frames_of in.jsonl in.frames
  "$ENCODE" in.frames > out.bin
  "$DUMP" out.bin > out.jsonl
  jq -e '.type == "section" and .offset == 0 and .table_id == 146 and .index == 0 and
         .total_count == 1 and .target_filter == 123456 and .message_id == 77 and
         .template_id == 5 and .genre == 2 and .ack_count == 1 and .ack_delay == 30 and
         .valid_start == "2026-11-22T00:00:00Z" and .valid_end == "2026-11-30T23:59:59Z" and
         .offset_appearance == 8 and .offset_filter == 11 and .offset_addressee == 15 and
         .storables == {"titre":"Noël","bip":true,"offre":3,"nom":"Ève"}' out.jsonl
  [ "$(jq -r .crc out.jsonl)" = "0x$(tail -c 4 out.bin | od -An -tx1 | tr -d ' \n')" ]
}

@test "sections: a corrupt CRC is reported with its byte offset" {
  "$GEN" -n 3 > in.jsonl
  frames_of in.jsonl in.frames
  "$ENCODE" in.frames > out.bin
  second=$(( $(byte_at out.bin 1) % 16 * 256 + $(byte_at out.bin 2) + 3 ))
  patch_byte out.bin $((second + 12)) 0
  run_split "$DUMP" out.bin
  assert_status $EX_DATAERR
  [[ "$stderr" == "moma-dump: byte $second: section 2: CRC_32 0x"*", computed 0x"* ]]
  [ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
}

@test "sections: truncated carousel, missing first segment, unknown input" {
  long=$(printf 'a%.0s' $(seq 1 200))
  one_message "{\"storables\":{\"texte\":\"$long\"}}" > in.jsonl
  frames_of in.jsonl in.frames
  "$ENCODE" --max-section 100 in.frames > out.bin
  size=$(stat -c %s out.bin)
  head -c $((size - 10)) out.bin > cut.bin
  run_split "$DUMP" cut.bin
  assert_status $EX_DATAERR
  [[ "$stderr" == *"truncated section"* ]]
  # drop the first 100-byte section
  tail -c +101 out.bin > nofirst.bin
  run_split "$DUMP" nofirst.bin
  assert_status $EX_DATAERR
  [[ "$stderr" == "moma-dump: byte 0: section 1: segment 1/"*" without segment 0" ]]
  # stop in the middle of a message: the last segment never comes
  head -c 200 out.bin > half.bin
  run_split "$DUMP" half.bin
  assert_status $EX_DATAERR
  [[ "$stderr" == "moma-dump: byte 200: truncated carousel: message 77 ends at segment 2 of 4" ]]
  [ "$(printf '%s\n' "$output" | jq -r .index | tr '\n' ' ')" = "0 1 " ]
  printf 'hello' > junk
  run_split "$DUMP" junk
  assert_status $EX_DATAERR
  [[ "$stderr" == "moma-dump: byte 0: unknown input: first byte 0x68"* ]]
}

@test "-n stops after N records; an empty input is an empty carousel" {
  "$GEN" -n 50 > in.jsonl
  frames_of in.jsonl in.frames
  "$ENCODE" in.frames > out.bin
  [ "$("$DUMP" -n 7 out.bin | wc -l)" -eq 7 ]
  [ "$("$DUMP" -n 3 in.frames | wc -l)" -eq 4 ]   # header + 3
  run "$DUMP" < /dev/null
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  run_split "$DUMP" -t frames < /dev/null
  assert_status $EX_DATAERR
}

@test "-r: errors name the line" {
  printf '%s\n' "$(one_message)" '{"id": 1,' > bad.jsonl
  run_split "$DUMP" -r bad.jsonl
  assert_status $EX_DATAERR
  [[ "$stderr" == "moma-dump: line 2: invalid JSON"* ]]
  one_message | jq -c 'del(.numero_abonne)' > bad.jsonl
  run_split "$DUMP" -r bad.jsonl
  assert_status $EX_DATAERR
  [ "$stderr" = 'moma-dump: line 1: missing "numero_abonne"' ]
  one_message '{"valid_start":"2026-13-01"}' > bad.jsonl
  run_split "$DUMP" -r bad.jsonl
  assert_status $EX_DATAERR
  [[ "$stderr" == 'moma-dump: line 1: "valid_start" must be'* ]]
  one_message '{"genre":40000}' > bad.jsonl
  run_split "$DUMP" -r bad.jsonl
  assert_status $EX_DATAERR
  [[ "$stderr" == 'moma-dump: line 1: "genre" 40000 out of range'* ]]
  one_message > in.jsonl
  frames_of in.jsonl in.frames
  "$ENCODE" in.frames | "$DUMP" > sec.jsonl
  run_split "$DUMP" -r sec.jsonl
  assert_status $EX_DATAERR
  [[ "$stderr" == *'record type "section" cannot be turned back into frames'* ]]
}

@test "-r without a header line writes a default header" {
  one_message > in.jsonl
  "$DUMP" -r in.jsonl | "$DUMP" > out.jsonl
  jq -e -s '.[0].type == "header" and .[0].network_id == 0 and
            (.[0].producer | startswith("moma-dump -r")) and .[2].count == 1' out.jsonl
}

@test "duplicate keys in storables are shown as not-JSON, not folded into one" {
  one_message | jq -c 'del(.storables) + {storables_raw: "{\"titre\":\"a\",\"titre\":\"b\"}"}' > in.jsonl
  frames_of in.jsonl a.frames
  "$DUMP" a.frames > a.jsonl
  jq -e -s '.[1].storables == null and (.[1].storables_error | test("duplicate"))' a.jsonl
  run_split "$ENCODE" a.frames
  assert_status $EX_DATAERR
  [[ "$stderr" == *'duplicate key "titre"' ]]
}

@test "-r: header dates are checked; defaults are the same with or without a header line" {
  printf '{"type":"header","date":"2026-02-30"}\n' > bad.jsonl
  run_split "$DUMP" -r bad.jsonl
  assert_status $EX_DATAERR
  [ "$stderr" = 'moma-dump: line 1: "date" must be "YYYY-MM-DD"' ]
  today=$(date -u +%F)
  printf '{"type":"header","network_id":9}\n' | "$DUMP" -r | "$DUMP" | head -1 > h1.jsonl
  "$DUMP" -r < /dev/null | "$DUMP" | head -1 > h2.jsonl
  jq -e --arg d "$today" '.date == $d and .network_id == 9 and (.producer | startswith("moma-dump -r"))' h1.jsonl
  jq -e --arg d "$today" '.date == $d and .network_id == 0 and (.producer | startswith("moma-dump -r"))' h2.jsonl
  # a frame stream whose header date is not a date fails at the header
  printf '{"type":"header","date":"2026-11-22"}\n' | "$DUMP" -r > f.frames
  patch_byte f.frames 17 88   # the first digit of the day -> 'X'
  run_split "$ENCODE" f.frames
  assert_status $EX_DATAERR
  [ "$stderr" = 'moma-encode: byte 17: header date is not "YYYY-MM-DD"' ]
}

@test "-r: an end line's count must match the messages before it, and nothing may follow it" {
  "$GEN" -n 5 > in.jsonl
  frames_of in.jsonl a.frames
  "$DUMP" a.frames > a.jsonl
  "$DUMP" -r a.jsonl > b.frames
  [ "$("$DUMP" b.frames | jq -s '.[-1].count')" -eq 5 ]
  # a file that lost a message line but kept its end line is refused
  { head -n 5 a.jsonl; tail -n 1 a.jsonl; } > cut.jsonl
  run_split "$DUMP" -r cut.jsonl
  assert_status $EX_DATAERR
  [ "$stderr" = 'moma-dump: line 6: end line count 5, but 4 messages before it' ]
  # records after the end line
  { cat a.jsonl; sed -n 2p a.jsonl; } > after.jsonl
  run_split "$DUMP" -r after.jsonl
  assert_status $EX_DATAERR
  [ "$stderr" = 'moma-dump: line 8: a "message" record after the end line' ]
  # an end line without a count, or none at all, is not checked
  { head -n 6 a.jsonl; echo '{"type":"end"}'; } > nocount.jsonl
  "$DUMP" -r nocount.jsonl > c.frames
  head -n 6 a.jsonl | "$DUMP" -r > d.frames
  cmp c.frames d.frames
}

@test "storables: copied as written, compacted, or Jansson's: the same bytes as Jansson writes" {
  # One storables a line, as printf formats (\\ a backslash, \xHH a byte):
  # kept as written, whitespace (PostgreSQL's jsonb text has some) and \/
  # compacted, what only Jansson reads (\u escapes, reals, 33 keys,
  # non-objects), and what it refuses (bad UTF-8, control characters,
  # duplicates, integers it does not keep).
  cat > cases <<'CASES'
{"titre":"caf\xc3\xa9 \xe2\x80\x99 \xf0\x9f\x98\x80","prix":-12,"a":true,"b":false,"c":null}
{"titre":"a\\"b\\\\c\\nd\\te\\rf\\bg\\fh","prix":0}
{ "titre" : "x\\/y" ,\n "prix":12 }  
{"titre":"x\\/y"}
{"prix": 12, "titre": "caf\xc3\xa9 \xe2\x80\x99"}
{}
 {}
{"titre":"\\u00e9t\\u00e9 \\ud83d\\ude00"}
{"prix":1.50,"duree":1e3}
{"prix":123456789012345678,"duree":1234567890123456789}
{"prix":-0}
{"prix":007}
{"titre":"\xed\xa0\x80"}
{"titre":"\xc0\xaf"}
{"titre":"\xf4\x90\x80\x80"}
{"titre":"caf\xc3"}
{"titre":"x\x01y"}
{"titre":"a","titre":"b"}
{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k17":17,"k18":18,"k19":19,"k20":20,"k21":21,"k22":22,"k23":23,"k24":24,"k25":25,"k26":26,"k27":27,"k28":28,"k29":29,"k30":30,"k31":31,"k32":32}
{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k17":17,"k18":18,"k19":19,"k20":20,"k21":21,"k22":22,"k23":23,"k24":24,"k25":25,"k26":26,"k27":27,"k28":28,"k29":29,"k30":30,"k31":31}
{"titre":{"a":1}}
{"titre":"a"}x
[1,2]
CASES
  cat > want <<'WANT'
{"titre":"café ’ 😀","prix":-12,"a":true,"b":false,"c":null}
{"titre":"a\"b\\c\nd\te\rf\bg\fh","prix":0}
{"titre":"x/y","prix":12}
{"titre":"x/y"}
{"prix":12,"titre":"café ’"}
{}
{}
{"titre":"été 😀"}
{"prix":1.5,"duree":1000.0}
{"prix":123456789012345678,"duree":1234567890123456789}
{"prix":0}
hex
hex
hex
hex
hex
hex
hex
{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k17":17,"k18":18,"k19":19,"k20":20,"k21":21,"k22":22,"k23":23,"k24":24,"k25":25,"k26":26,"k27":27,"k28":28,"k29":29,"k30":30,"k31":31,"k32":32}
{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k17":17,"k18":18,"k19":19,"k20":20,"k21":21,"k22":22,"k23":23,"k24":24,"k25":25,"k26":26,"k27":27,"k28":28,"k29":29,"k30":30,"k31":31}
{"titre":{"a":1}}
hex
[1,2]
WANT
  while IFS= read -r fmt; do
    one_message "{\"storables_hex\": \"$(printf "$fmt" | od -An -tx1 | tr -d ' \n')\"}" |
      jq -c 'del(.storables)'
  done < cases > in.jsonl
  frames_of in.jsonl a.frames
  "$DUMP" a.frames | LC_ALL=C awk 'index($0, "\"type\":\"message\"") {
      i = index($0, ",\"storables\":")
      print i ? substr($0, i + 13, length($0) - i - 13) : "hex" }' > got
  diff -u want got
}

@test "sections: a message with empty storables has an empty body and dumps as {}" {
  one_message '{"storables": {}}' > in.jsonl
  frames_of in.jsonl a.frames
  "$ENCODE" a.frames > a.sec
  "$DUMP" a.sec > a.jsonl
  jq -e -s 'length == 1 and .[0].body_len == 0 and .[0].storables == {}' a.jsonl
  "$ENCODE" --ts --pid 0x100 a.frames > a.ts
  "$DUMP" a.ts > b.jsonl
  diff -u a.jsonl b.jsonl
}
