#!/usr/bin/env bats
# moma-put against a real S3 (local Swift + s3api): objects are read back
# with curl's own SigV4 client and compared byte for byte.

load helpers
load lib/s3

BKT=moma-test

setup_file() {
  s3_start
  s3_mb "$BKT"
}

teardown_file() {
  s3_stop
}

setup() {
  cd "$BATS_TEST_TMPDIR"
}

teardown() {
  # Fault proxies and second servers started by a test, by PID.
  if [ -f "$BATS_TEST_TMPDIR/proxy.pid" ]; then
    kill "$(cat "$BATS_TEST_TMPDIR/proxy.pid")" 2>/dev/null || true
  fi
  if [ -d "$BATS_TEST_TMPDIR/s3b" ]; then
    "$S3_SERVER" stop "$BATS_TEST_TMPDIR/s3b" || true
  fi
}

# put_check KEY FILE [moma-put options...]: upload FILE, read it back, cmp.
put_check() {
  local key=$1 file=$2
  shift 2
  run_split "$PUT" "$@" "s3://$BKT/$key" <"$file"
  assert_status 0
  s3_get "$BKT" "$key" back
  cmp "$file" back
}

# uploads_are BUCKET N: true when BUCKET has N open multipart uploads.
uploads_are() {
  [ "$(s3_uploads "$1")" -eq "$2" ]
}

# start_proxy ARGS...: fault proxy in front of the server; prints its URL.
start_proxy() {
  local up=${AWS_ENDPOINT_URL##*:}
  "$TOP/tests/faultproxy.py" "$up" proxy.port proxy.log "$@" >proxy.err 2>&1 &
  echo $! >proxy.pid
  wait_for 10 test -s proxy.port
  echo "http://127.0.0.1:$(cat proxy.port)"
}

@test "moma-put: --version, --help and usage errors" {
  run_split "$PUT" --version
  assert_status 0
  [[ $output == "moma-put "[0-9]* ]]
  run_split "$PUT" --help
  assert_status "$EX_USAGE"
  [[ $stderr == *"usage: moma-put"* ]]
  run_split "$PUT" -j 0 s3://a/b
  assert_status "$EX_USAGE"
  run_split "$PUT" -p 4M s3://abc/b
  assert_status "$EX_USAGE"
  [[ $stderr == *"part size"* ]]
  run_split "$PUT" --complete x --abort y
  assert_status "$EX_USAGE"
}

@test "moma-put: bad URLs are usage errors" {
  for u in http://x/y s3:// s3://bkt s3://moma-test/ s3://Bad_Bucket/k s3://ab/k; do
    run_split "$PUT" "$u" </dev/null
    assert_status "$EX_USAGE"
    [[ $stderr == *"$u"* ]]
  done
}

@test "moma-put: sizes 0, 1, 5MiB-1, 5MiB as one PutObject, byte-identical" {
  for n in 0 1 $((5 * 1048576 - 1)) $((5 * 1048576)); do
    head -c "$n" /dev/urandom >in
    put_check "size-$n" in -p 5M --stats
    [[ $stderr == *"parts=1 requests=1 "* ]]
    # A single PutObject has the plain MD5 as its ETag.
    [ "$(s3_etag "$BKT" "size-$n")" = "$(md5sum <in | cut -d' ' -f1)" ]
  done
}

@test "moma-put: 5MiB+1 goes multipart, ETag of the -2 form" {
  head -c $((5 * 1048576 + 1)) /dev/urandom >in
  put_check size-5m1 in -p 5M
  [ "$(s3_etag "$BKT" size-5m1)" = "$(multipart_etag in 5242880)" ]
  [[ $(s3_etag "$BKT" size-5m1) == *-2 ]]
  [ "$(s3_uploads "$BKT")" -eq 0 ]
}

@test "moma-put: 60 MiB multipart, -N ETag, several job counts" {
  head -c $((60 * 1048576)) /dev/urandom >in
  for j in 1 3 8; do
    put_check "big-$j" in -p 5M -j "$j" --stats
    [[ $stderr == *"parts=12 "* ]]
    [ "$(s3_etag "$BKT" "big-$j")" = "$(multipart_etag in 5242880)" ]
  done
  [ "$(s3_uploads "$BKT")" -eq 0 ]
}

@test "moma-put: memory stays near (jobs + 1) x part size" {
  # 80 MiB through 3 buffers of 5 MiB.  ASan adds its own overhead.
  local slack=12
  case $MOMA_BUILD in *asan*) slack=48 ;; esac
  run_split "$PUT" -p 5M -j 2 --stats "s3://$BKT/mem" < <(head -c $((80 * 1048576)) /dev/zero)
  assert_status 0
  local rss
  rss=$(grep -o 'maxrss_kib=[0-9]*' <<<"$stderr" | cut -d= -f2)
  echo "maxrss_kib=$rss" >&3
  [ "$rss" -lt $(((15 + slack) * 1024)) ]
}

@test "moma-put: part size grows so the part limit is never reached" {
  # MOMA_PUT_MAX_PARTS=22: the size doubles every 2 parts:
  # 5+5+10+10+20+(10 of 20) MiB = 60 MiB in 6 parts instead of 12.
  head -c $((60 * 1048576)) /dev/urandom >in
  MOMA_PUT_MAX_PARTS=22 put_check grow in -p 5M --stats
  [[ $stderr == *"parts=6 "* ]]
  [[ $(s3_etag "$BKT" grow) == *-6 ]]
}

@test "moma-put: input beyond the part limit fails and aborts" {
  head -c $((11 * 1048576)) /dev/zero >in
  MOMA_PUT_MAX_PARTS=1 run_split "$PUT" -p 5M "s3://$BKT/toobig" <in
  assert_status "$EX_DATAERR"
  [[ $stderr == *"larger than S3 allows"* ]]
  ! s3_exists "$BKT" toobig
  [ "$(s3_uploads "$BKT")" -eq 0 ]
}

@test "moma-put: wrong secret is a clear 403, exit 77" {
  echo hello >in
  AWS_SECRET_ACCESS_KEY=wrong run_split "$PUT" "s3://$BKT/denied" <in
  assert_status "$EX_NOPERM"
  [[ $stderr == *"PutObject: HTTP 403 SignatureDoesNotMatch"* ]]
  [[ $stderr != *wrong* ]]
  head -c $((6 * 1048576)) /dev/zero >in
  AWS_SECRET_ACCESS_KEY=wrong run_split "$PUT" -v -p 5M "s3://$BKT/denied" <in
  assert_status "$EX_NOPERM"
  [[ $stderr == *"CreateMultipartUpload: HTTP 403"* ]]
  [[ $stderr != *wrong* && $stderr != *testing* ]]
  ! s3_exists "$BKT" denied
}

@test "moma-put: missing bucket, no credentials, unreachable endpoint" {
  echo hello >in
  run_split "$PUT" s3://no-such-bucket/k <in
  assert_status "$EX_UNAVAILABLE"
  [[ $stderr == *"NoSuchBucket"* ]]
  HOME=$BATS_TEST_TMPDIR run_split env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
    "$PUT" "s3://$BKT/k" <in
  assert_status "$EX_CONFIG"
  [[ $stderr == *"no credentials"* ]]
  run_split "$PUT" -r 1 --endpoint-url http://127.0.0.1:1 "s3://$BKT/k" <in
  assert_status "$EX_UNAVAILABLE"
  [[ $stderr == *"Couldn't connect"*"(2 attempts)"* ]]
}

@test "moma-put: credentials from AWS_PROFILE in the shared credentials file" {
  printf '[other]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
    "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >creds
  echo profile >in
  AWS_SHARED_CREDENTIALS_FILE=$PWD/creds AWS_PROFILE=other run_split env \
    -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$PUT" "s3://$BKT/profile" <in
  assert_status 0
  s3_get "$BKT" profile back
  cmp in back
}

@test "moma-put: SIGTERM mid-upload aborts: no open upload, no object" {
  mkfifo fifo
  "$PUT" -p 5M "s3://$BKT/sigterm" <fifo 2>err &
  local pid=$!
  exec 5>fifo
  head -c $((12 * 1048576)) /dev/urandom >&5
  # The upload is open and parts are going; stdin stays open.
  wait_for 20 uploads_are "$BKT" 1
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  exec 5>&-
  cat err
  [ "$rc" -eq 143 ]
  grep -q 'interrupted by signal 15' err
  [ "$(s3_uploads "$BKT")" -eq 0 ]
  ! s3_exists "$BKT" sigterm
}

@test "moma-put: S3 server killed mid-upload: non-zero exit naming the part" {
  # A server of its own: this one dies.
  eval "$("$S3_SERVER" start "$BATS_TEST_TMPDIR/s3b")"
  s3_mb "$BKT"
  mkfifo fifo
  "$PUT" -r 2 -p 5M "s3://$BKT/killed" <fifo 2>err &
  local pid=$!
  exec 5>fifo
  head -c $((6 * 1048576)) /dev/urandom >&5
  wait_for 20 uploads_are "$BKT" 1
  local ppid
  ppid=$(cat "$BATS_TEST_TMPDIR/s3b/run/proxy.pid")
  kill -KILL $(pgrep -P "$ppid") "$ppid"
  head -c $((6 * 1048576)) /dev/urandom >&5
  exec 5>&-
  local rc=0
  wait "$pid" || rc=$?
  cat err
  [ "$rc" -eq "$EX_UNAVAILABLE" ]
  grep -q "part [0-9]*: UploadPart: Couldn't connect" err
  grep -q "AbortMultipartUpload: .*stays open" err
}

@test "moma-put: two-phase --prepare then --complete" {
  head -c $((12 * 1048576)) /dev/urandom >in
  run_split "$PUT" -p 5M --prepare state "s3://$BKT/twophase" <in
  assert_status 0
  [ -s state ]
  ! s3_exists "$BKT" twophase
  [ "$(s3_uploads "$BKT")" -eq 1 ]
  run_split "$PUT" --stats --complete state
  assert_status 0
  [ ! -e state ]
  s3_get "$BKT" twophase back
  cmp in back
  [ "$(s3_etag "$BKT" twophase)" = "$(multipart_etag in 5242880)" ]
  [ "$(s3_uploads "$BKT")" -eq 0 ]
  # Empty input in two-phase mode still makes an object.
  run_split "$PUT" --prepare state "s3://$BKT/twophase-empty" </dev/null
  assert_status 0
  run_split "$PUT" --complete state
  assert_status 0
  s3_get "$BKT" twophase-empty back
  [ ! -s back ]
}

@test "moma-put: two-phase under pipefail: a failed producer means abort" {
  set -o pipefail
  local rc=0
  { head -c $((7 * 1048576)) /dev/urandom; exit 3; } |
    "$PUT" -p 5M --prepare state "s3://$BKT/aborted" || rc=$?
  [ "$rc" -eq 3 ]
  [ "$(s3_uploads "$BKT")" -eq 1 ]
  run_split "$PUT" --abort state
  assert_status 0
  [ ! -e state ]
  [ "$(s3_uploads "$BKT")" -eq 0 ]
  ! s3_exists "$BKT" aborted
  run_split "$PUT" --abort state
  assert_status "$EX_NOINPUT"
  echo garbage >state
  run_split "$PUT" --complete state
  assert_status "$EX_DATAERR"
}

@test "moma-put: 500, SlowDown, resets and lost answers are retried" {
  local url
  url=$(start_proxy --seed 7 --rate 0.3)
  head -c $((40 * 1048576)) /dev/urandom >in
  put_check faulty in --endpoint-url "$url" -p 5M -j 3 -r 10 --stats
  local faults
  faults=$(grep -c '^FAULT' proxy.log)
  echo "faults injected: $faults; $stderr" >&3
  [ "$faults" -ge 3 ]
  [[ $stderr =~ retries=([0-9]+) ]]
  [ "${BASH_REMATCH[1]}" -ge "$faults" ]
  [ "$(s3_etag "$BKT" faulty)" = "$(multipart_etag in 5242880)" ]
  [ "$(s3_uploads "$BKT")" -eq 0 ]
}

@test "moma-put: a lost Complete answer is retried, object intact" {
  local url
  url=$(start_proxy --rate 1 --kinds lost --match '^POST .*uploadId=' --max 1)
  head -c $((7 * 1048576)) /dev/urandom >in
  put_check lostcomplete in --endpoint-url "$url" -p 5M
  grep -q '^FAULT lost POST' proxy.log
  [ "$(s3_uploads "$BKT")" -eq 0 ]
}

@test "moma-put: Complete answered NoSuchUpload after it worked: HEAD confirms, exit 0" {
  local url
  url=$(start_proxy --rate 1 --kinds gone --match '^POST .*uploadId=' --max 1)
  head -c $((7 * 1048576)) /dev/urandom >in
  put_check gonecomplete in --endpoint-url "$url" -p 5M
  grep -q '^FAULT gone POST' proxy.log
  # The object was checked by its ETag before success was claimed.
  grep -q '^PASS - HEAD /moma-test/gonecomplete' proxy.log
  [ "$(s3_etag "$BKT" gonecomplete)" = "$(multipart_etag in 5242880)" ]
  [ "$(s3_uploads "$BKT")" -eq 0 ]
}

@test "moma-put: Complete answered NoSuchUpload, no object: clear error, nothing stored" {
  local url
  s3_mb moma-test-nosuch
  url=$(start_proxy --rate 1 --kinds nosuch --match '^POST .*uploadId=')
  head -c $((7 * 1048576)) /dev/urandom >in
  run_split "$PUT" --endpoint-url "$url" -p 5M "s3://moma-test-nosuch/gone" <in
  assert_status "$EX_UNAVAILABLE"
  [[ $stderr == "moma-put: "*"NoSuchUpload"*"aborted or expired"* ]]
  grep -q '^PASS - HEAD /moma-test-nosuch/gone' proxy.log
  ! s3_exists moma-test-nosuch gone
}

@test "moma-put: retries exhausted: exit 75, part and S3 code named, aborted" {
  local url
  url=$(start_proxy --rate 1 --kinds 503 --match '^PUT .*partNumber=2&')
  head -c $((11 * 1048576)) /dev/urandom >in
  run_split "$PUT" --endpoint-url "$url" -p 5M -r 2 "s3://$BKT/exhausted" <in
  assert_status "$EX_TEMPFAIL"
  [[ $stderr == *"part 2: UploadPart: HTTP 503 SlowDown"*"(3 attempts)"* ]]
  [ "$(s3_uploads "$BKT")" -eq 0 ]
  ! s3_exists "$BKT" exhausted
}
