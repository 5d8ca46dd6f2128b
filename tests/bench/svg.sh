#!/usr/bin/env bash
# tests/bench/svg.sh SUMMARY OUT.svg: the picture of a bench run, in plain
# SVG (no plotting package): for the largest size, where each moma-zone
# stage's wall time goes (working, blocked reading, blocked writing, from
# moma-zone's summary line; working = wall - blocked), and the speed
# ratios of the summary table against the floors and the peers (1 = as
# fast as the baseline).  Reads SUMMARY (run's table rows) and
# SUMMARY.stages (pipeline.sh and peer.sh lines).
set -euo pipefail
sum=$1 out=$2
[ -s "$sum.stages" ] || { echo "svg.sh: no $sum.stages (pipeline section not run): no picture" >&2; exit 0; }
awk -v sumfile="$sum" '
function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
FNR == NR {
	if ($1 == "peer") next
	if ($1 + 0 >= size) { size = $1 + 0; line = $0; wall = $2; floor = $3 }
	next
}
/^\| / {
	row = $0
	gsub(/\\\|/, "\001", row)	# an escaped | inside a cell
	n = split(row, c, "|")
	what = c[2]; sz = c[3]; sp = c[6]
	gsub(/^ +| +$/, "", what); gsub(/^ +| +$/, "", sz); gsub(/^ +| +$/, "", sp)
	gsub(/\001/, "|", what)
	if (sp !~ /x$/ || what ~ /memory/) next
	nr++; rw[nr] = what " (" sz ")"; rv[nr] = sp + 0; rs[nr] = c[7]
	if (rv[nr] > vmax) vmax = rv[nr]
}
END {
	W = 900; bh = 22; top1 = 60
	match(line, /seconds=[0-9.]+/); secs = substr(line, RSTART + 8, RLENGTH - 8) + 0
	split("fetch encode put", st, " ")
	for (i = 1; i <= 3; i++) {
		if (match(line, st[i] "=[0-9]+/[0-9.]+/[0-9.]+")) {
			split(substr(line, RSTART, RLENGTH), a, /[=\/]/)
			bin[i] = a[3] + 0; bout[i] = a[4] + 0
		}
		work[i] = secs - bin[i] - bout[i]; if (work[i] < 0) work[i] = 0
	}
	top2 = top1 + 3 * (bh + 10) + 90
	H = top2 + nr * (bh + 6) + 60
	printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", W, H
	printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
	printf "<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">moma-zone, %d rows into the local S3: %.2f s (COPY floor %.2f s); where each stage%ss time goes</text>\n", size, secs, floor, "\047"
	lx = 90; sc = (W - lx - 40) / (secs > 0 ? secs : 1)
	split("#4c72b0 #dd8452 #55a868", col, " ")
	split("working (wall - blocked)|blocked reading (starved)|blocked writing (held back)", lab, "|")
	for (k = 1; k <= 3; k++)
		printf "<rect x=\"%d\" y=\"32\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"43\">%s</text>\n", 10 + (k - 1) * 250, col[k], 26 + (k - 1) * 250, lab[k]
	for (i = 1; i <= 3; i++) {
		y = top1 + (i - 1) * (bh + 10); x = lx
		printf "<text x=\"10\" y=\"%d\">moma-%s</text>\n", y + 15, st[i]
		v[1] = work[i]; v[2] = bin[i]; v[3] = bout[i]
		for (k = 1; k <= 3; k++) {
			printf "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>%s %.2f s</title></rect>\n", x, y, v[k] * sc, bh, col[k], lab[k], v[k]
			if (v[k] * sc > 40) printf "<text x=\"%.1f\" y=\"%d\" fill=\"white\">%.2f s</text>\n", x + 4, y + 15, v[k]
			x += v[k] * sc
		}
	}
	printf "<text x=\"10\" y=\"%d\" font-size=\"15\" font-weight=\"bold\">Speed against the baselines (above 1: moma faster; bar: median, line: min-max over rounds)</text>\n", top2 - 30
	lx = 430; vm = vmax > 1.5 ? vmax : 1.5
	sc = (W - lx - 60) / vm
	printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"black\" stroke-dasharray=\"4 3\"/><text x=\"%.1f\" y=\"%d\">1x</text>\n", lx + sc, top2 - 14, lx + sc, top2 + nr * (bh + 6), lx + sc - 6, top2 - 16
	for (r = 1; r <= nr; r++) {
		y = top2 + (r - 1) * (bh + 6)
		printf "<text x=\"10\" y=\"%d\">%s</text>\n", y + 15, esc(substr(rw[r], 1, 66))
		printf "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n", lx, y, rv[r] * sc, bh, (rv[r] >= 1 ? "#55a868" : "#c44e52")
		if (match(rs[r], /[0-9.]+-[0-9.]+x/)) {
			split(substr(rs[r], RSTART, RLENGTH - 1), mm, "-")
			printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"black\" stroke-width=\"2\"/>\n", lx + mm[1] * sc, y + bh / 2, lx + mm[2] * sc, y + bh / 2
		}
		printf "<text x=\"%.1f\" y=\"%d\">%.2fx</text>\n", lx + rv[r] * sc + 6, y + 15, rv[r]
	}
	print "</svg>"
}' "$sum.stages" "$sum" >"$out"
