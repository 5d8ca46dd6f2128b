#!/usr/bin/env bats
# moma-splice: sections through unchanged with their index; reused ranges
# spliced in campaign order give the very bytes of the whole carousel; a
# plan or a carousel that disagree, and bad input, are errors (65), never
# output that looks complete.  The sections come from moma-gen | moma-encode.

load helpers

SPLICE=$BIN/moma-splice

setup() {
	cd "$BATS_TEST_TMPDIR"
	# Many campaigns, messages of several segments too.
	# 400 messages over 13 campaigns, in (campagne_id, id) order.
	"$GEN" -n 400 -s 5 -t jsonl | jq -c 'if .type == "header" then . else .campagne_id = 1000 + .id % 13 end' |
		{ IFS= read -r h; echo "$h"; jq -sc 'sort_by(.campagne_id, .id)[]'; } | "$DUMP" -r > frames
	"$ENCODE" --max-section 200 < frames > all.sec
	[ -s all.sec ]
}

@test "pass-through: the same bytes; the index covers them, campaign after campaign" {
	"$SPLICE" --index all.idx --copy copy.sec < all.sec > out.sec
	cmp out.sec all.sec
	cmp copy.sec all.sec
	[ "$(wc -l < all.idx)" -ge 3 ]
	# Contiguous, ascending, summing to the file; messages and sections as
	# moma-dump counts them: the sections of index 0, and all.
	awk -v size="$(stat -c %s all.sec)" '
	    NR > 1 && ($1 <= c || $2 != end) { exit 1 }
	    { c = $1; end = $2 + $3; m += $4; s += $5 }
	    END { if (end != size) exit 1; print m, s }' all.idx > counts
	"$DUMP" -t sections all.sec | jq -s '[(map(select(.index == 0)) | length), length] | join(" ")' -r |
		cmp - counts
}

@test "reuse: any subset of campaigns from the old carousel, the rest from stdin, is the whole carousel" {
	local i
	"$SPLICE" --index all.idx < all.sec > /dev/null
	for i in 1 2 3 4 5 6; do
		# A random subset reused (first, last, none, all may come up).
		awk -v seed=$i 'BEGIN { srand(seed) } { print > (rand() < 0.5 ? "plan" : "new.idx") }' all.idx
		touch plan new.idx
		# The new campaigns' sections, cut out of all.sec.
		: > new.sec
		while read -r c f l m s; do tail -c +$((f + 1)) all.sec | head -c "$l" >> new.sec; done < new.idx
		"$SPLICE" --reuse plan --from all.sec --index out.idx < new.sec > out.sec
		cmp out.sec all.sec
		cmp out.idx all.idx
		rm -f plan new.idx
	done
}

@test "a plan that does not describe the carousel: 65, and the campaign named" {
	"$SPLICE" --index all.idx < all.sec > /dev/null
	head -n 1 all.idx > plan
	read -r c f l m s < plan
	echo "$c $((f + 1)) $l $m $s" > shifted
	run_split "$SPLICE" --reuse shifted --from all.sec < /dev/null
	assert_status "$EX_DATAERR"
	[[ $stderr == *"campaign $c"* || $stderr == *"not a moma section"* ]]
	echo "$c $f $l $((m + 1)) $s" > counts
	run_split "$SPLICE" --reuse counts --from all.sec < /dev/null
	assert_status "$EX_DATAERR"
	[[ $stderr == *"campaign $c: $m messages"* ]]
	echo "$c $f $((l + 1000000)) $m $s" > long
	run_split "$SPLICE" --reuse long --from all.sec < /dev/null
	assert_status "$EX_DATAERR"
	# The last campaign's range past the end of the carousel.
	read -r c9 f9 l9 m9 s9 < <(tail -n 1 all.idx)
	echo "$c9 $f9 $((l9 + 1000)) $m9 $s9" > past
	run_split "$SPLICE" --reuse past --from all.sec < /dev/null
	assert_status "$EX_DATAERR"
	[ "$stderr" = "moma-splice: all.sec: campaign $c9: ends at byte $(stat -c %s all.sec), before $((f9 + l9 + 1000))" ]
	# The carousel cut short in the middle of one of the plan's sections.
	head -c $((f + l - 5)) all.sec > cut.sec
	run_split "$SPLICE" --reuse plan --from cut.sec < /dev/null
	assert_status "$EX_DATAERR"
	[[ $stderr == "moma-splice: cut.sec: byte "[0-9]*": a section cut short" ]]
	# Sections of another campaign where the plan says this one's.
	read -r c2 f2 l2 m2 s2 < <(sed -n 2p all.idx)
	echo "$c $f2 $l2 $m2 $s2" > other
	run_split "$SPLICE" --reuse other --from all.sec < /dev/null
	assert_status "$EX_DATAERR"
	[ "$stderr" = "moma-splice: all.sec: byte $f2: not a section of campaign $c (--reuse other line 1)" ]
	# The campaign is on stdin as well.
	run_split "$SPLICE" --reuse plan --from all.sec < all.sec
	assert_status "$EX_DATAERR"
	[ "$stderr" = "moma-splice: campaign $c is both on standard input and in --reuse plan" ]
	# Out of order, malformed, negative.
	{ sed -n 2p all.idx; sed -n 1p all.idx; } > backwards
	run_split "$SPLICE" --reuse backwards --from all.sec < /dev/null
	assert_status "$EX_DATAERR"
	[ "$stderr" = "moma-splice: --reuse backwards: line 2: campaign $c after $c2: not in ascending order" ]
	# (the last: no newline at its end, a plan cut short)
	for bad in "1 2 3" "x 0 1 1 1" "1 -1 5 1 1" "1 0 0 0 0" "1 0 5 1 1 9" "" \
	    "1 0 5 1 1 $(printf '%0160d' 0)" "1 0 5 1 1\c"; do
		echo -e "$bad" > badplan
		run_split "$SPLICE" --reuse badplan --from all.sec < /dev/null
		assert_status "$EX_DATAERR"
		[ "$stderr" = "moma-splice: --reuse badplan: line 1: not 'campagne_id first length messages sections'" ]
	done
}

@test "a plan line out of range: 65, not 74 nor a campaign id cut to 32 bits (found by fuzz_splice)" {
	"$SPLICE" --index all.idx < all.sec > /dev/null
	read -r c f l m s < <(head -n 1 all.idx)
	# fuzz_splice's first find: a first byte past 2^63 was a failed seek,
	# "Invalid argument", exit 74, as if the disk had failed.
	# A campaign id over 32 bits took the sections of the campaign it is
	# modulo 2^32, and wrote the index with the id over 32 bits.
	# A number past 2^64: sscanf makes it UINT64_MAX, which is named as
	# if it had been written so.
	for bad in "$c 15101912594050682417 $l $m $s" "$c 9223372036854775807 1 1 1" \
	    "$((c + 4294967296)) $f $l $m $s" "$c 0 9223372036854775808 $m $s" \
	    "$c 0 18446744073709551616 $m $s" "99999999999999999999999 $f $l $m $s"; do
		echo "$bad" > badplan
		run_split "$SPLICE" --reuse badplan --from all.sec --index out.idx < /dev/null
		assert_status "$EX_DATAERR"
		[ "$stderr" = "moma-splice: --reuse badplan: line 1: out of range (campagne_id at most 4294967295, first + length at most 9223372036854775807)" ] ||
			{ echo "plan line '$bad': $stderr" >&2; return 1; }
	done
	# The largest that are in range are read as such.
	echo "4294967295 $(stat -c %s all.sec) 5 1 1" > edge
	run_split "$SPLICE" --reuse edge --from all.sec < /dev/null
	assert_status "$EX_DATAERR"
	[ "$stderr" = "moma-splice: all.sec: campaign 4294967295: ends at byte $(stat -c %s all.sec), before $(($(stat -c %s all.sec) + 5))" ]
}

@test "bad input: cut short, not sections, out of campaign order: 65" {
	head -c $(($(stat -c %s all.sec) - 3)) all.sec > cut
	run_split "$SPLICE" --index i < cut
	assert_status "$EX_DATAERR"
	[[ $stderr == *"cut short"* ]]
	printf 'hello world, not a section at all.........................' > junk
	run_split "$SPLICE" < junk
	assert_status "$EX_DATAERR"
	[[ $stderr == *"not a moma section"* ]]
	"$SPLICE" --index all.idx < all.sec > /dev/null
	read -r c f l m s < <(sed -n 2p all.idx)
	{ tail -c +$((f + 1)) all.sec | head -c "$l"; head -c "$f" all.sec; } > swapped
	run_split "$SPLICE" < swapped
	assert_status "$EX_DATAERR"
	[[ $stderr == *"not in campaign order"* ]]
	# Random bytes: an error or the bytes through, never a crash.
	for i in 1 2 3 4 5; do
		head -c 3000 /dev/urandom > rnd
		run "$SPLICE" --index i < rnd
		[ "$status" -eq 0 ] || [ "$status" -eq "$EX_DATAERR" ]
	done
}

@test "usage: --reuse without --from, an extra argument, unknown options: 64; missing files 66; --help, --version" {
	run_split "$SPLICE" --reuse x
	assert_status "$EX_USAGE"
	run_split "$SPLICE" extra
	assert_status "$EX_USAGE"
	run_split "$SPLICE" --nope
	assert_status "$EX_USAGE"
	run_split "$SPLICE" --reuse /nonexistent --from all.sec
	assert_status "$EX_NOINPUT"
	run_split "$SPLICE" --index /nonexistent/dir/x < all.sec
	assert_status "$EX_CANTCREAT"
	run_split "$SPLICE" --help
	assert_status 0
	[[ ${lines[0]} == "usage: moma-splice "* ]]
	run "$SPLICE" --version
	[ "$output" = "moma-splice $(cat "$TOP/scripts/VERSION")" ]
	run bash -c '"$1" --index i < "$2" > /dev/full' _ "$SPLICE" all.sec
	assert_status "$EX_IOERR"
}

@test "moma-splice: standard output's reader gone: exit 141 (EPIPE), as the other tools" {
  "$GEN" -t frames -n 2000 -s 3 | "$ENCODE" > in.bin
  run bash -c "'$BIN/moma-splice' --index idx < in.bin 2> err | head -c 10 > /dev/null; echo \${PIPESTATUS[0]}"
  [ "$output" = 141 ]
  grep -qx 'moma-splice: stdout: Broken pipe' err
}
