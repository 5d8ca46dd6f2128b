#!/usr/bin/env bats
# moma-encode --ts and moma-dump on transport streams, checked against
# decoders moma did not write:
#  - tscheck (tests/tools/tscheck.c): libdvbpsi reassembles the PID's
#    sections; tscheck recomputes each CRC_32 and can write the raw
#    sections back (-r) to cmp with moma-encode's section file;
#  - tshark reads the .ts file directly (its MPEG-2 TS file reader, no pcap
#    needed) and dissects the sections: fields mpeg_sect.tid and
#    mpeg_sect.len (this version's names; mpeg_sect.table_id and
#    .section_length stay empty for private sections), mp2t.analysis.skips
#    for continuity errors.  It verifies CRCs of long-form sections only
#    (PAT, PMT), hence tscheck;
#  - ffprobe must list the program and the PID from the PAT and PMT.

load helpers

TSCHECK=$MOMA_BUILD/testtools/tscheck
TSMUX=$MOMA_BUILD/testtools/tsmux

setup() {
  cd "$BATS_TEST_TMPDIR"
}

# sized_message ID SIZE: a message line whose one section is SIZE bytes
# (45..2100): text items of 3 + length bytes after the 42 bytes of header
# and CRC.
sized_message() {
  local id=$1 rest=$(($2 - 42)) o='{}' i=0 l
  local keys=(titre texte signature code_promo url civilite nom prenom)
  while [ "$rest" -gt 0 ]; do
    if [ "$rest" -gt 257 ]; then
      l=254
      [ $((rest - 257)) -ge 4 ] || l=250
    else
      l=$((rest - 3))
    fi
    o=$(jq -c --arg k "${keys[i]}" --arg v "$(printf "%${l}s" "" | tr ' ' x)" \
      '. + {($k): $v}' <<< "$o")
    rest=$((rest - 3 - l))
    i=$((i + 1))
  done
  one_message "{\"id\":$id,\"storables\":$o}"
}

# frames_sized SIZE...: in.frames with one message per SIZE.
frames_sized() {
  local i=0 s
  for s in "$@"; do
    i=$((i + 1))
    sized_message "$i" "$s"
  done > in.jsonl
  frames_of in.jsonl in.frames
}

# tshark_sections FILE: "tid<TAB>len" of every section tshark finds.
tshark_sections() {
  tshark -r "$1" -T fields -e mpeg_sect.tid -e mpeg_sect.len 2>/dev/null |
    awk -F'\t' '$1 != "" { n = split($1, t, ","); split($2, l, ",");
                           for (i = 1; i <= n; i++) print t[i] "\t" l[i] }'
}

# packet_byte FILE PACKET OFFSET: byte OFFSET of packet PACKET (from 0).
packet_byte() {
  byte_at "$1" $(($2 * 188 + $3))
}

# check_all FRAMES: encode plain and as TS with PAT/PMT on PID 0x100 and
# make every decoder agree with the plain section file.
check_all() {
  "$ENCODE" "$1" > plain.sec
  "$ENCODE" --ts --pid 0x100 --pat "$1" > out.ts
  # whole packets, each with its sync byte
  [ $(($(stat -c %s out.ts) % 188)) -eq 0 ]
  [ "$(od -An -v -tx1 -w188 out.ts | awk '{ print $1 }' | sort -u)" = 47 ]
  # libdvbpsi: the same bytes, every CRC good
  "$TSCHECK" -r 0x100 < out.ts > dvbpsi.sec
  cmp dvbpsi.sec plain.sec
  "$TSCHECK" 0x100 < out.ts > dvbpsi.tsv
  ! grep -q crc-BAD dvbpsi.tsv
  "$DUMP" plain.sec > plain.jsonl
  jq -r '"0x\(if .table_id == 146 then "92" else .table_id end)\t\(.section_length)\t\(.index)\t\(.total_count)\t\(.message_id)\t\(.crc)\tcrc-ok"' \
    plain.jsonl > want.tsv
  diff -u want.tsv dvbpsi.tsv
  # tshark: PAT, PMT, then every section with its length; no cc skips
  { printf '0x00\t13\n0x02\t18\n'; jq -r '"0x92\t\(.section_length)"' plain.jsonl; } > want.tsh
  tshark_sections out.ts > got.tsh
  diff -u want.tsh got.tsh
  [ -z "$(tshark -r out.ts -T fields -e mp2t.analysis.skips 2>/dev/null | tr -d '\n')" ]
  # moma-dump: the same lines as for the section file, offsets aside
  "$DUMP" out.ts > ts.jsonl
  diff -u <(jq -c 'del(.offset)' plain.jsonl) <(jq -c 'del(.offset)' ts.jsonl)
}

@test "usage: --ts needs --pid in 0x0020..0x1ffe; --pat options need --pat" {
  "$DUMP" -r < /dev/null > e.frames
  for args in "--ts" "--pid 0x100" "--ts --pid 0x1f" "--ts --pid 0x1fff" "--ts --pid 32x" \
              "--ts --pid -5" "--ts --pid 0x100 --program 2" "--ts --pid 0x100 --pat --program 0" \
              "--ts --pid 0x100 --pat --pmt-pid 0x100" "--pat"; do
    run_split "$ENCODE" $args e.frames
    assert_status $EX_USAGE
    [[ "$stderr" == "moma-encode: "* ]]
  done
  run_split "$ENCODE" --ts --pid 32 e.frames
  assert_status 0
  run_split "$ENCODE" --ts --pid 0x1FFE --pat --program 65535 --pmt-pid 0x20 e.frames
  assert_status 0
  run "$DUMP" --pid 0x2000
  assert_status $EX_USAGE
}

@test "empty input: nothing, or with --pat just the PAT and the PMT" {
  "$DUMP" -r < /dev/null > e.frames
  "$ENCODE" --ts --pid 0x100 e.frames > a.ts
  [ "$(stat -c %s a.ts)" -eq 0 ]
  "$ENCODE" --ts --pid 0x100 --pat e.frames > b.ts
  [ "$(stat -c %s b.ts)" -eq 376 ]
  [ "$(tshark_sections b.ts)" = "$(printf '0x00\t13\n0x02\t18')" ]
  run_split "$DUMP" b.ts
  assert_status 0
  [ -z "$output" ]
}

@test "one tiny section: one packet, pointer 0, stuffed with 0xFF to the end" {
  one_message '{"storables":{"prix":1}}' > in.jsonl
  frames_of in.jsonl in.frames
  check_all in.frames
  "$ENCODE" --ts --pid 0x100 in.frames > one.ts
  [ "$(stat -c %s one.ts)" -eq 188 ]
  [ "$(od -An -tx1 -N6 one.ts | tr -d ' ')" = 474100100092 ]
  size=$(($(stat -c %s plain.sec)))
  [ "$size" -eq 48 ]
  cmp <(tail -c +6 one.ts | head -c $size) plain.sec
  [ "$(tail -c +$((6 + size)) one.ts | od -An -v -tx1 | tr -s ' \n' '\n' | sort -u | grep .)" = ff ]
}

@test "many sections in one packet: only the first is pointed at" {
  frames_sized 61 61 61 48
  check_all in.frames
  "$ENCODE" --ts --pid 0x100 in.frames > t.ts
  [ "$(stat -c %s t.ts)" -eq 376 ]
  # three table_ids at 5, 66 and 127 fill packet 0; one pointer, 0
  for o in 5 66 127; do [ "$(byte_at t.ts $o)" -eq 146 ]; done
  [ "$(byte_at t.ts 4)" -eq 0 ]
  [ "$(packet_byte t.ts 1 4)" -eq 0 ]
  [ "$(packet_byte t.ts 1 5)" -eq 146 ]
  # tshark sees the three in the first frame
  [ "$(tshark -r t.ts -T fields -e mpeg_sect.tid 2>/dev/null | head -1)" = "0x92,0x92,0x92" ]
}

@test "a section ending exactly at a packet boundary: the next starts the next packet" {
  frames_sized 183 48 319 48
  check_all in.frames
  "$ENCODE" --ts --pid 0x100 in.frames > t.ts
  # packet 0: 183 bytes fill it; packet 1: pointer 0, section 2 then 3
  [ "$(packet_byte t.ts 1 1)" -eq $((0x41)) ]
  [ "$(packet_byte t.ts 1 4)" -eq 0 ]
  [ "$(packet_byte t.ts 1 5)" -eq 146 ]
  # section 3 (319 = 135 + 184): packet 2 all continuation, no PUSI
  [ "$(packet_byte t.ts 1 $((5 + 48)))" -eq 146 ]
  [ "$(packet_byte t.ts 2 1)" -eq 1 ]
  # so section 4 starts packet 3 at pointer 0
  [ "$(packet_byte t.ts 3 1)" -eq $((0x41)) ]
  [ "$(packet_byte t.ts 3 4)" -eq 0 ]
  [ "$(packet_byte t.ts 3 5)" -eq 146 ]
  [ "$(stat -c %s t.ts)" -eq $((4 * 188)) ]
}

@test "the 183-byte case: no section starts where only its pointer would fit" {
  # 366 = 183 + 183: packet 1 is continuation with one byte left
  frames_sized 366 48
  check_all in.frames
  "$ENCODE" --ts --pid 0x100 in.frames > t.ts
  [ "$(packet_byte t.ts 1 1)" -eq 1 ]           # no PUSI
  [ "$(packet_byte t.ts 1 187)" -eq 255 ]       # stuffed
  [ "$(packet_byte t.ts 2 1)" -eq $((0x41)) ]
  [ "$(packet_byte t.ts 2 4)" -eq 0 ]
  [ "$(packet_byte t.ts 2 5)" -eq 146 ]
  [ "$(stat -c %s t.ts)" -eq $((3 * 188)) ]
}

@test "182 bytes left: a pointer, and the next section starts in the last byte" {
  # 365 = 183 + 182 and 182: the next table_id is byte 187 of the packet,
  # its section_length in the next packet
  frames_sized 365 48 182 48
  check_all in.frames
  "$ENCODE" --ts --pid 0x100 in.frames > t.ts
  [ "$(packet_byte t.ts 1 1)" -eq $((0x41)) ]
  [ "$(packet_byte t.ts 1 4)" -eq 182 ]
  [ "$(packet_byte t.ts 1 187)" -eq 146 ]
}

@test "the last section ending in a continuation packet: no dangling pointer" {
  frames_sized 300
  check_all in.frames
  "$ENCODE" --ts --pid 0x100 in.frames > t.ts
  [ "$(stat -c %s t.ts)" -eq 376 ]
  # 117 bytes continue in packet 1: no PUSI, no pointer, then stuffing
  [ "$(packet_byte t.ts 1 1)" -eq 1 ]
  cmp <(tail -c +$((188 + 5)) t.ts | head -c 117) <(tail -c 117 plain.sec)
  [ "$(packet_byte t.ts 1 $((4 + 117)))" -eq 255 ]
}

@test "big messages with --max-section 4096: 2 kB sections over 12 packets" {
  t=$(printf 'é%.0s' $(seq 127))   # 254 bytes of UTF-8
  for i in 1 2 3 4 5; do
    one_message "{\"id\":$i,\"storables\":{\"titre\":\"$t\",\"texte\":\"$t\",\"signature\":\"$t\",
      \"code_promo\":\"$t\",\"url\":\"$t\",\"civilite\":\"$t\",\"nom\":\"$t\",\"prenom\":\"$t\",
      \"prix\":1,\"chaine\":2,\"duree\":3,\"position\":4,\"couleur\":5,\"priorite\":6,\"bip\":true,
      \"offre\":7,\"age_min\":8,\"langue\":\"fra\"}}"
  done > in.jsonl
  frames_of in.jsonl in.frames
  "$ENCODE" --max-section 4096 in.frames > p.sec
  "$DUMP" p.sec > p.jsonl
  jq -e -s 'length == 5 and all(.[]; .total_count == 1 and .section_length > 2000)' p.jsonl
  check_all in.frames
}

@test "4093-byte sections (tsmux, not moma-encode): libdvbpsi, tshark and moma-dump agree" {
  "$TSMUX" -g 3 > big.sec
  [ "$(stat -c %s big.sec)" -eq $((3 * 4096)) ]
  "$TSMUX" 0x200 < big.sec > big.ts
  [ $(($(stat -c %s big.ts) % 188)) -eq 0 ]
  "$TSCHECK" -r 0x200 < big.ts | cmp - big.sec
  "$TSCHECK" 0x200 < big.ts > c.tsv
  [ "$(cut -f2,7 c.tsv | sort -u)" = "$(printf '4093\tcrc-ok')" ]
  [ "$(tshark_sections big.ts)" = "$(printf '0x92\t4093\n0x92\t4093\n0x92\t4093')" ]
  # the message never ends (segments 0..2 of 4): -n 3 stops before the
  # end-of-message check; what moma-dump reassembled has the right CRCs
  "$DUMP" -n 3 big.ts > d.jsonl
  [ "$(jq -r '[.section_length, .index, .crc] | @tsv' d.jsonl)" = \
    "$(awk -F'\t' '{ print $2 "\t" $3 "\t" $6 }' c.tsv)" ]
  run_split "$DUMP" big.ts
  assert_status $EX_DATAERR
  [[ "$stderr" == *"truncated carousel"* ]]
}

@test "10,000 random messages: every decoder agrees, ffprobe lists the program" {
  "$GEN" -n 10000 -s 17 > in.jsonl
  frames_of in.jsonl in.frames
  check_all in.frames
  [ "$(wc -l < ts.jsonl)" -eq 10000 ]
  ffprobe -v error -of json -show_programs out.ts > probe.json
  jq -e '.programs | length == 1 and .[0].program_num == 1 and .[0].pmt_pid == 4096 and
         (.[0].streams | length == 1 and .[0].id == "0x100" and .[0].codec_tag == "0x0005")' probe.json
}

@test "--program and --pmt-pid reach the PAT and the PMT" {
  "$GEN" -n 20 > in.jsonl
  frames_of in.jsonl in.frames
  "$ENCODE" --ts --pid 0x1ffe --pat --program 4711 --pmt-pid 0x0020 in.frames > t.ts
  ffprobe -v error -of json -show_programs t.ts > probe.json
  jq -e '.programs[0].program_num == 4711 and .programs[0].pmt_pid == 32 and
         .programs[0].streams[0].id == "0x1ffe"' probe.json
  # CRCs of PAT and PMT checked by tshark (long-form sections)
  tshark -r t.ts -o mpeg_sect.verify_crc:TRUE -T fields -e mpeg_sect.crc.status 2>/dev/null |
    grep . > crc.txt
  [ "$(sort -u crc.txt)" = 1 ]
  [ "$(wc -l < crc.txt)" -eq 2 ]
  [ "$("$DUMP" t.ts | wc -l)" -eq 20 ]
}

@test "continuity_counter counts modulo 16 and wraps; a skip is reported" {
  "$GEN" -n 100 > in.jsonl
  frames_of in.jsonl in.frames
  "$ENCODE" --ts --pid 0x100 in.frames > t.ts
  n=$(($(stat -c %s t.ts) / 188))
  [ "$n" -gt 40 ]
  od -An -v -tu1 -w188 t.ts | awk '{ print $4 % 16 }' > cc.txt
  diff -u <(seq 0 $((n - 1)) | awk '{ print $1 % 16 }') cc.txt
  [ "$(tshark -r t.ts -T fields -e mp2t.cc 2>/dev/null | sed -n 17p)" -eq 0 ]
  # drop packet 20: every decoder notices
  { head -c $((20 * 188)) t.ts; tail -c +$((21 * 188 + 1)) t.ts; } > cut.ts
  run_split "$DUMP" cut.ts
  assert_status $EX_DATAERR
  [[ "$stderr" == "moma-dump: byte 3760: packet 21: PID 0x0100: continuity_counter 5 where 4 was due" ]]
  run "$TSCHECK" 0x100 < cut.ts
  [ "$status" -ne 0 ]
  [ -n "$(tshark -r cut.ts -T fields -e mp2t.analysis.skips 2>/dev/null | tr -d '\n')" ]
}

@test "TS errors: sync, truncation, pointer, stuffing; byte offsets, exit 65" {
  "$GEN" -n 30 > in.jsonl
  frames_of in.jsonl in.frames
  "$ENCODE" --ts --pid 0x100 in.frames > t.ts
  # detection looks at the first 8 packets, the reader at every one
  cp t.ts sync.ts
  patch_byte sync.ts $((3 * 188)) 0
  run_split "$DUMP" sync.ts
  assert_status $EX_DATAERR
  [[ "$stderr" == "moma-dump: byte 564: unknown input: 0x47 at byte 0 but 0x00 at byte 564: not a transport stream" ]]
  cp t.ts sync.ts
  patch_byte sync.ts $((10 * 188)) 0
  run_split "$DUMP" sync.ts
  assert_status $EX_DATAERR
  [[ "$stderr" == "moma-dump: byte 1880: packet 11: sync byte 0x00 where 0x47 was due" ]]
  [ "$(printf '%s\n' "$output" | jq -s 'map(select(.offset < 1880)) | length')" -eq "$(printf '%s\n' "$output" | wc -l)" ]
  head -c $(($(stat -c %s t.ts) - 10)) t.ts > short.ts
  run_split "$DUMP" short.ts
  assert_status $EX_DATAERR
  [[ "$stderr" == *"truncated: 178 of 188 bytes"* ]]
  # a pointer_field that does not match the section in progress
  p=$(od -An -v -tu1 -w188 t.ts | awk 'NR > 1 && $2 == 65 { print NR - 1; exit }')
  cp t.ts ptr.ts
  patch_byte ptr.ts $((p * 188 + 4)) $(($(packet_byte t.ts "$p" 4) + 1))
  run_split "$DUMP" ptr.ts
  assert_status $EX_DATAERR
  [[ "$stderr" == "moma-dump: byte $((p * 188)): packet $((p + 1)): PID 0x0100: pointer_field"* ]]
  # garbage after the stuffing of the last packet
  cp t.ts stuff.ts
  patch_byte stuff.ts $(($(stat -c %s t.ts) - 1)) 0
  run_split "$DUMP" stuff.ts
  assert_status $EX_DATAERR
  [[ "$stderr" == *"byte 0x00 after stuffing"* ]]
  # a section file is not a TS; 0x47 without a sync every 188 bytes either
  "$ENCODE" in.frames > s.sec
  run_split "$DUMP" -t ts s.sec
  assert_status $EX_DATAERR
  [[ "$stderr" == "moma-dump: byte 0: packet 1: sync byte 0x92 where 0x47 was due" ]]
  { printf 'G'; head -c 400 s.sec; } > g.bin
  run_split "$DUMP" g.bin
  assert_status $EX_DATAERR
  [[ "$stderr" == *"not a transport stream"* ]]
}

@test "--pid picks the PID; the default is the one carrying table_id 0x92" {
  "$GEN" -n 10 > in.jsonl
  frames_of in.jsonl in.frames
  "$ENCODE" --ts --pid 0x300 --pat --pmt-pid 0x100 in.frames > t.ts
  "$DUMP" t.ts > auto.jsonl
  [ "$(wc -l < auto.jsonl)" -eq 10 ]
  "$DUMP" --pid 0x300 t.ts | cmp - auto.jsonl
  # the PMT's PID carries table_id 0x02: refused as a moma section
  run_split "$DUMP" --pid 256 t.ts
  assert_status $EX_DATAERR
  [[ "$stderr" == *"table_id 0x02, want 0x92"* ]]
  # a PID with nothing on it: nothing to print
  run_split "$DUMP" --pid 0x555 t.ts
  assert_status 0
  [ -z "$output" ]
  # offsets: the packet in which each section starts (PAT, PMT first)
  jq -e -s 'all(.[]; .offset % 188 == 0) and .[0].offset == 376' auto.jsonl
}

@test "--stats: sections counted as units, packets added" {
  "$GEN" -n 50 > in.jsonl
  frames_of in.jsonl in.frames
  run_split "$ENCODE" --stats --ts --pid 0x100 --pat in.frames
  assert_status 0
  "$ENCODE" --ts --pid 0x100 --pat in.frames > t.ts
  [[ "$stderr" == *" sections=50 "* ]]
  [[ "$stderr" == *" packets=$(($(stat -c %s t.ts) / 188))" ]]
}
