#!/usr/bin/env bash
# tests/bench/encode.sh [-r rounds] [-n sizes]: moma-encode against cat of
# the same frames, and the storables scanner against Jansson.  Not a test.
#
# Frames come from momagen (deterministic), kept in $MOMA_BENCH_DATA
# (default tests/bench/data) and regenerated only when momagen changes.
# Each round runs every variant once, interleaved, so drift on a noisy
# machine hits them alike; the table shows medians.  Target (DESIGN.md 7):
# >= 3 M records/s on one core, peak RSS < 16 MiB and the same at both sizes.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${MOMA_BUILD:-$top/build/release}
data=${MOMA_BENCH_DATA:-$top/tests/bench/data}
rounds=3 sizes="1000000 10000000"
while getopts r:n: o; do
	case $o in
	r) rounds=$OPTARG ;; n) sizes=$OPTARG ;;
	*) echo "usage: encode.sh [-r rounds] [-n sizes]" >&2; exit 64 ;;
	esac
done
gen=$build/testtools/momagen encode=$build/bin/moma-encode
for b in "$gen" "$encode" /usr/bin/time; do
	[ -x "$b" ] || { echo "encode.sh: need $b (make; apt-get install time)" >&2; exit 69; }
done
mkdir -p "$data"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

variants=(cat encode)
"$encode" --help 2>/dev/null | grep -q -- '--ts' && variants+=(encode-ts)
run() {   # run VARIANT FILE
	case $1 in
	cat) /usr/bin/time -f "%e %M" -o "$tmp/t" cat "$2" > /dev/null ;;
	encode) /usr/bin/time -f "%e %M" -o "$tmp/t" "$encode" "$2" > /dev/null ;;
	encode-ts) /usr/bin/time -f "%e %M" -o "$tmp/t" "$encode" --ts --pid 0x100 "$2" > /dev/null ;;
	esac
	echo "$1 $(cat "$tmp/t")" >> "$tmp/times.$size"
}

printf '| records | variant | wall s (median) | records/s | vs target 3 M/s | peak RSS KiB |\n'
printf '|---:|---|---:|---:|---:|---:|\n'
for size in $sizes; do
	f=$data/frames-$size
	if [ ! -s "$f" ] || [ "$gen" -nt "$f" ]; then
		echo "# generating $size frames into $f" >&2
		"$gen" --frames -n "$size" -s 1 > "$f.tmp" && mv "$f.tmp" "$f"
	fi
	cat "$f" > /dev/null    # into the page cache before the first round
	for ((r = 0; r < rounds; r++)); do
		for v in "${variants[@]}"; do run "$v" "$f"; done
	done
	for v in "${variants[@]}"; do
		awk -v v="$v" '$1 == v' "$tmp/times.$size" | sort -k2,2n |
		awk -v v="$v" -v n="$size" '{ w[++k] = $2; if ($3 > rss) rss = $3 }
		  END { m = (k % 2) ? w[(k + 1) / 2] : (w[k / 2] + w[k / 2 + 1]) / 2;
		        rate = m > 0 ? n / m : 0
		        printf "| %d | %s | %.3f | %.0f | %s | %d |\n", n, v, m, rate,
		          v == "cat" ? "-" : sprintf("%.2fx", rate / 3e6), rss }'
	done
done
echo
printf 'storables parsing on the 1 M frames: '
"$build/testtools/tlvbench" "$data/frames-$(echo $sizes | cut -d' ' -f1)"
