#!/usr/bin/env bash
# put.sh [SIZE_MIB [ROUNDS]]: moma-put against the usual ways to stream a
# pipe into S3, all into the same local Swift (scripts/dev/moma-s3-server):
#   curl -T -        one signed PUT: the floor, no parts, no retries
#   aws s3 cp -      awscli
#   s3cmd put -      s3cmd
#   rclone rcat      rclone
# Each tool reads SIZE_MIB (default 1024) of random bytes from a pipe, in
# ROUNDS (default 3) interleaved rounds so drift hits every tool alike.
# Prints a markdown table of median wall time, MB/s and peak RSS
# (GNU time), with moma-put's targets: >= 0.9x curl, >= 2x aws,
# RSS <= (jobs + 1) x part size + 8 MiB.  Not run by the tests.
#
# Env: MOMA_BUILD (default build/release), MOMA_PUT_OPTS (extra options),
# MOMA_S3_DIR (reuse a running server instead of starting one).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
size_mib=${1:-1024}
rounds=${2:-3}
put=${MOMA_BUILD:-$top/build/release}/bin/moma-put
put_opts=${MOMA_PUT_OPTS:-}
TIME=/usr/bin/time
for t in "$put" "$TIME" curl aws s3cmd rclone; do
  command -v "$t" >/dev/null || { echo "put.sh: $t missing (make; scripts/dev/moma-deps bench)" >&2; exit 69; }
done

work=$(mktemp -d /tmp/moma-bench-put.XXXXXX)
own_server=
cleanup() {
  [ -z "$own_server" ] || "$top/scripts/dev/moma-s3-server" stop "$own_server" || true
  rm -rf "$work"
}
trap cleanup EXIT
if [ -n "${MOMA_S3_DIR:-}" ]; then
  eval "$("$top/scripts/dev/moma-s3-server" env "$MOMA_S3_DIR")"
else
  own_server=$work/s3
  eval "$("$top/scripts/dev/moma-s3-server" start "$own_server")"
fi
unset AWS_PROFILE
bucket=moma-bench
port=${AWS_ENDPOINT_URL##*:}
sigv4=(--aws-sigv4 "aws:amz:$AWS_REGION:s3" --netrc-file "$MOMA_S3_NETRC")
curl -sf "${sigv4[@]}" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -X PUT \
  "$AWS_ENDPOINT_URL/$bucket" -o /dev/null || true

cat >"$work/s3cfg" <<EOT
[default]
access_key = $AWS_ACCESS_KEY_ID
secret_key = $AWS_SECRET_ACCESS_KEY
host_base = 127.0.0.1:$port
host_bucket = 127.0.0.1:$port
use_https = False
bucket_location = $AWS_REGION
signature_v2 = False
EOT
export RCLONE_CONFIG=/dev/null RCLONE_S3_PROVIDER=Other RCLONE_S3_ENV_AUTH=false \
  RCLONE_S3_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID \
  RCLONE_S3_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
  RCLONE_S3_ENDPOINT=$AWS_ENDPOINT_URL RCLONE_S3_REGION=$AWS_REGION

echo "put.sh: $size_mib MiB of random bytes, $rounds rounds" >&2
head -c $((size_mib * 1048576)) /dev/urandom >"$work/data"
bytes=$(stat -c %s "$work/data")

# run NAME CMD...: feed the data through a pipe into CMD, record "wall rss".
run() {
  local name=$1 key=bench-$1
  shift
  cat "$work/data" | "$TIME" -f '%e %M' -o "$work/t" "$@" "$key" >/dev/null 2>"$work/err" || {
    echo "put.sh: $name failed:" >&2; cat "$work/err" >&2; return 1; }
  # Check what arrived, then delete it so Swift's disk stays small.
  local len
  len=$(curl -sfI "${sigv4[@]}" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
    "$AWS_ENDPOINT_URL/$bucket/$key" | tr -d '\r' | awk 'tolower($1)=="content-length:"{print $2}')
  [ "$len" = "$bytes" ] || { echo "put.sh: $name stored $len bytes, not $bytes" >&2; return 1; }
  curl -sf "${sigv4[@]}" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -X DELETE \
    "$AWS_ENDPOINT_URL/$bucket/$key" -o /dev/null || true
  echo "$name $(cat "$work/t")" >>"$work/results"
  echo "put.sh: $name $(cat "$work/t")" >&2
}

for r in $(seq "$rounds"); do
  run moma-put sh -c 'exec "$0" $1 "s3://$2/$3"' "$put" "$put_opts" "$bucket"
  run curl sh -c 'exec curl -sf --aws-sigv4 "$0" --netrc-file "$1" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T - "$2/$3/$4" -o /dev/null' \
    "aws:amz:$AWS_REGION:s3" "$MOMA_S3_NETRC" "$AWS_ENDPOINT_URL" "$bucket"
  run aws sh -c 'exec aws s3 cp --only-show-errors - "s3://$0/$1"' "$bucket"
  run s3cmd sh -c 'exec s3cmd -q -c "$0" put - "s3://$1/$2"' "$work/s3cfg" "$bucket"
  run rclone sh -c 'exec env -u AWS_CA_BUNDLE rclone rcat ":s3:$0/$1"' "$bucket"
done

# Median wall and peak RSS per tool; ratios against curl and aws.
awk -v bytes="$bytes" -v mib="$size_mib" '
  { n[$1]++; w[$1, n[$1]] = $2; if ($3 > rss[$1]) rss[$1] = $3 }
  function median(t,   i, j, k, a, c) {
    c = n[t]; for (i = 1; i <= c; i++) a[i] = w[t, i]
    for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++)
      if (a[j] < a[i]) { k = a[i]; a[i] = a[j]; a[j] = k }
    return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
  }
  END {
    printf "| tool (%d MiB from a pipe) | wall s (median) | MB/s | peak RSS MiB | moma-put speedup |\n", mib
    print "|---|---:|---:|---:|---:|"
    split("moma-put curl aws s3cmd rclone", order, " ")
    mw = median("moma-put")
    for (i = 1; i <= 5; i++) {
      t = order[i]; if (!n[t]) continue
      m = median(t)
      printf "| %s | %.2f | %.0f | %.1f | %.2fx |\n", t, m, bytes / m / 1e6, rss[t] / 1024, m / mw
    }
  }' "$work/results"

# The summary rows (run's table): moma-put against each tool.
if [ -n "${MOMA_BENCH_SUMMARY:-}" ]; then
  bench_tmp=$work top=$top build=
  . "$top/tests/bench/lib.sh"
  awk '{ print $1, $2, $3 }' "$work/results" >"$work/times"
  m=$(bench_median "$work/times" moma-put)
  # Speed and memory against each tool (DESIGN.md 7: faster, with a
  # fraction of their memory; curl -T is the server's floor, not a
  # client S3 would take: NOTES.md), then moma-put's own memory bound.
  mrss=$(bench_maxrss "$work/times" moma-put)
  for t in curl:0.9 aws:1 s3cmd:1 rclone:1; do
    tool=${t%:*}
    grep -q "^$tool " "$work/times" || continue
    trss=$(awk -v r="$(bench_maxrss "$work/times" "$tool")" 'BEGIN { printf "%.0f", r / 1024 }')
    if [ "$tool" = curl ]; then
      bench_row "moma-put vs curl -T ($size_mib MiB)" "-" "$m" "$tool" "$(bench_median "$work/times" "$tool")" \
        0 "$bytes" "$mrss" 0.9 "" ">= 0.9x" "$(bench_spread "$work/times" moma-put "$tool")"
    else
      bench_row "moma-put vs $tool ($size_mib MiB)" "-" "$m" "$tool" "$(bench_median "$work/times" "$tool")" \
        0 "$bytes" "$mrss" 1 "$trss" "faster, less memory ($tool: $trss MiB)" \
        "$(bench_spread "$work/times" moma-put "$tool")"
    fi
  done
  bench_row "moma-put memory, -j 4 x 8 MiB parts" "-" "$m" - 0 0 0 "$mrss" 0 48 "<= (4+1) x 8 + 8 MiB"
fi

# Where moma-put's memory goes: a 3-byte upload maps libcurl, OpenSSL and
# their dependencies and allocates no part buffer; each part buffer is the
# part size (default 8 MiB), jobs + 1 of them.
base=$(printf 'hi\n' | $TIME -f %M "$put" "s3://$bucket/tiny" 2>&1 >/dev/null | tail -n 1)
for j in 1 2 4; do
  head -c $((64 << 20)) /dev/zero | $TIME -f "%M" -o "$work/rss.$j" "$put" -j $j "s3://$bucket/rss$j" >/dev/null
done
echo
printf 'moma-put peak RSS by jobs (64 MiB input, default 8 MiB parts):'
for j in 1 2 4; do awk -v j=$j '{ printf " -j%s %.1f MiB", j, $1 / 1024 }' "$work/rss.$j"; done
echo .
awk -v b="$base" -v r4="$(cat "$work/rss.4")" 'BEGIN {
  printf "A 3-byte upload peaks at %.1f MiB: shared libraries (libcurl, OpenSSL and their\n", b / 1024
  printf "dependencies), before any part buffer. At -j4 the 5 x 8 MiB part pool leaves\n"
  printf "%.1f MiB, of which %.1f MiB over that baseline are moma-put'"'"'s own (handles, upload\n", (r4 - 40 * 1024) / 1024, (r4 - 40 * 1024 - b) / 1024
  printf "buffers): the target'"'"'s + 8 MiB is taken by the libraries alone.\n" }'
# The same, from the kernel's own split of a waiting moma-put's memory:
# file-backed pages (the libraries' code, shared with every process that
# maps them) against its private, anonymous memory.
sleep 2 | "$put" "s3://$bucket/split" >/dev/null &
split_pid=$!
sleep 1
awk '/^(RssAnon|RssFile):/ { v[$1] = $2 } END {
  printf "A moma-put waiting for input: RssFile %.1f MiB (libraries), RssAnon %.1f MiB (its own data).\n",
    v["RssFile:"] / 1024, v["RssAnon:"] / 1024 }' "/proc/$split_pid/status"
wait "$split_pid"
