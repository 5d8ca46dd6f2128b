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
  assert_status 0
  [[ $output == *"usage: moma-put"* ]]
  # Every long option of the getopt table is in the help text.
  for o in abort abort-uploads complete content-type endpoint-url head help \
      insecure jobs list-uploads meta older-than part-size path-style prepare profile \
      region retries sse sse-kms-key-id stats stats-file storage-class verbose version; do
    [[ $output == *"--$o"* ]] || { echo "--help lacks --$o" >&2; return 1; }
  done
  run_split "$PUT" --bogus
  assert_status "$EX_USAGE"
  [[ $stderr == *"usage: moma-put"* && -z $output ]]
  run_split "$PUT" -j 0 s3://a/b
  assert_status "$EX_USAGE"
  run_split "$PUT" -p 4M s3://abc/b
  assert_status "$EX_USAGE"
  [[ $stderr == "moma-put: -p: '4M' is not a number in 5M..5G"$'\n'"usage: moma-put"* ]]
  run_split "$PUT" --older-than 5x --abort-uploads s3://abc
  assert_status "$EX_USAGE"
  [[ $stderr == "moma-put: --older-than: '5x' is not a number in 0..36500d"$'\n'"usage: moma-put"* ]]
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

# stat_val FILE KEY: the value of KEY in a --stats-file (exactly one line).
stat_val() {
  [ "$(grep -c "^$2=" "$1")" -eq 1 ] || { echo "$1: not one $2= line" >&2; return 1; }
  sed -n "s/^$2=//p" "$1"
}

@test "moma-put: --stats-file: the --stats keys one a line, parts = the ETag's, exit=0" {
  head -c $((12 * 1048576 + 7)) /dev/urandom >in
  put_check statsfile in -p 5M --stats --stats-file st
  [ "$(cut -d= -f1 st | tr '\n' ' ')" = "parts requests bytes_in bytes_out wall cpu user sys blocked_in blocked_out maxrss_kib retries complete exit " ]
  ! grep -vE '^[a-z_]+=[0-9]+(\.[0-9]+)?$' st
  # The keys of the --stats line, in its order (its times are taken a moment
  # before the file's, so only the counts below can be compared).
  [ "$(sed 's/^moma-put: stats: //; s/=[^ ]*//g' <<<"$stderr")" = "$(grep -v '^exit=' st | cut -d= -f1 | tr '\n' ' ' | sed 's/ $//')" ]
  local etag
  etag=$(s3_etag "$BKT" statsfile)
  [ "$(stat_val st parts)" -eq "${etag##*-}" ]
  [ "$(stat_val st parts)" -eq 3 ]
  [ "$(stat_val st bytes_in)" -eq "$(stat -c %s in)" ]
  [ "$(stat_val st requests)" -ge 5 ]   # Create, 3 parts, Complete
  [ "$(stat_val st retries)" -eq 0 ]
  [ "$(stat_val st exit)" -eq 0 ]
  [ "$(ls | grep -c '^st')" -eq 1 ]
  # Two-phase: --complete has its own, with the seconds Complete took.
  run_split "$PUT" -p 5M --stats-file st --prepare state "s3://$BKT/statsfile2" <in
  assert_status 0
  [ "$(stat_val st parts)" -eq 3 ]
  [ "$(stat_val st complete)" = 0.000 ]
  run_split "$PUT" --stats-file st2 --complete state
  assert_status 0
  [ "$(stat_val st2 exit)" -eq 0 ]
  awk -v c="$(stat_val st2 complete)" 'BEGIN { exit !(c > 0) }'
}

@test "moma-put: --stats-file on failure: exit= says the status; uncreatable: 73, nothing sent" {
  echo hello >in
  run_split "$PUT" -r 0 --endpoint-url http://127.0.0.1:1 --stats-file st "s3://$BKT/k" <in
  assert_status "$EX_UNAVAILABLE"
  [ "$(stat_val st exit)" -eq "$EX_UNAVAILABLE" ]
  [ "$(stat_val st bytes_in)" -eq 6 ]
  # A configuration error too: written from the exit handler.
  HOME=$BATS_TEST_TMPDIR run_split env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
    "$PUT" --stats-file st "s3://$BKT/k" <in
  assert_status "$EX_CONFIG"
  [ "$(stat_val st exit)" -eq "$EX_CONFIG" ]
  [ "$(stat_val st parts)" -eq 0 ]
  run_split "$PUT" --stats-file no/such/dir/st "s3://$BKT/never" <in
  assert_status "$EX_CANTCREAT"
  [[ $stderr == "moma-put: --stats-file no/such/dir/st: No such file or directory" ]]
  ! s3_exists "$BKT" never
}

@test "moma-put: input beyond the part limit fails and aborts" {
  head -c $((11 * 1048576)) /dev/zero >in
  MOMA_PUT_MAX_PARTS=1 run_split "$PUT" -p 5M "s3://$BKT/toobig" <in
  assert_status "$EX_DATAERR"
  [[ $stderr == *"larger than S3 allows"* ]]
  ! s3_exists "$BKT" toobig
  [ "$(s3_uploads "$BKT")" -eq 0 ]
}

# reset_server BYTES: serve BYTES MiB of zeros to one TCP client on
# loopback (its port in reset.port), then, once the file "go" exists,
# reset the connection: the client's next read fails (ECONNRESET).
reset_server() {
  perl -MIO::Socket::INET -MSocket -e '
    my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0,
      Listen => 1, ReuseAddr => 1) or die "listen: $!";
    open(my $f, ">", "reset.port.tmp") or die; print $f $s->sockport; close $f;
    rename("reset.port.tmp", "reset.port") or die;
    my $c = $s->accept or die "accept: $!";
    $c->autoflush(1);
    print $c "\0" x 1048576 for 1 .. $ARGV[0];
    select(undef, undef, undef, 0.1) until -e "go";
    setsockopt($c, SOL_SOCKET, SO_LINGER, pack("ii", 1, 0)) or die;
    close $c;' "$1" &
  echo $! >proxy.pid
  wait_for 10 test -s reset.port
}

@test "moma-put: standard input failing after Create: 74, the upload aborted, nothing left" {
  local b=moma-reset
  s3_mb "$b"
  for mode in one-shot prepare; do
    rm -f reset.port go state st
    local opts=(-p 5M --stats-file st)
    [ "$mode" = prepare ] && opts+=(--prepare state)
    reset_server 7
    "$PUT" "${opts[@]}" "s3://$b/reset" </dev/tcp/127.0.0.1/"$(cat reset.port)" 2>err &
    local pid=$! rc=0
    # The upload exists and part 1 is stored or going; then the read fails.
    wait_for 20 uploads_are "$b" 1
    touch go
    wait "$pid" || rc=$?
    cat err
    [ "$rc" -eq "$EX_IOERR" ]
    grep -qx 'moma-put: s3://moma-reset/reset: UploadPart: standard input: Connection reset by peer' err
    [ "$(stat_val st exit)" -eq "$EX_IOERR" ]
    [ "$(s3_uploads "$b")" -eq 0 ]
    [ ! -e state ]
    ! s3_exists "$b" reset
  done
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

# ---- the commit point, crash-safe state, keys, untrusted state --------------

# sha_of BUCKET KEY: sha256 of the object now at the key.
sha_of() {
  s3_get "$1" "$2" "$BATS_TEST_TMPDIR/sha.obj" && sha256sum <"$BATS_TEST_TMPDIR/sha.obj" | cut -c1-64
}

@test "moma-put: a signal to the process group during --complete: old or new, never broken" {
  local b=moma-sigc
  s3_mb "$b"
  head -c $((30 * 1048576)) /dev/urandom >old
  head -c $((30 * 1048576)) /dev/urandom >new
  put_check k old --stats
  local want_old want_new
  want_old=$(sha256sum <old | cut -c1-64)
  want_new=$(sha256sum <new | cut -c1-64)
  local olds=0 news=0 retried=0
  for round in $(seq 1 20); do
    # Alternate: odd rounds publish new over old, even ones old over new.
    local src=new
    [ $((round % 2)) -eq 0 ] && src=old
    "$PUT" -p 5M --prepare st "s3://$b/k" <"$src"
    local delay
    delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.3f", (r % 101) / 1000 }')
    setsid "$PUT" --complete st 2>cerr &
    local pid=$!
    sleep "$delay"
    if [ $((round % 3)) -eq 0 ]; then kill -INT -- -"$pid" 2>/dev/null || true
    else kill -TERM -- -"$pid" 2>/dev/null || true; fi
    wait "$pid" || true
    if [ -e st ]; then
      retried=$((retried + 1))
      run_split "$PUT" --complete st
      assert_status 0
    fi
    [ ! -e st ]
    local got
    got=$(sha_of "$b" k)
    # Completed: the key serves the new bytes, whole.
    if [ "$src" = new ]; then [ "$got" = "$want_new" ]; news=$((news + 1))
    else [ "$got" = "$want_old" ]; olds=$((olds + 1)); fi
    [ "$(s3_uploads "$b")" -eq 0 ]
  done
  echo "# 20 rounds: $retried needed a second --complete" >&3
}

@test "moma-put: Complete failing with 503, then reset after forwarding: retry publishes, state kept meanwhile" {
  local b=moma-cfail url
  s3_mb "$b"
  url=$(start_proxy --rate 1 --kinds 503 --match '^POST .*uploadId=' --max 1)
  head -c $((12 * 1048576)) /dev/urandom >in
  run_split "$PUT" --endpoint-url "$url" -p 5M --prepare st "s3://$b/k" <in
  assert_status 0
  run_split "$PUT" --endpoint-url "$url" -r 0 --complete st
  assert_status "$EX_TEMPFAIL"
  [[ $stderr == *"CompleteMultipartUpload: HTTP 503"* ]]
  # Not aborted: the upload and the state wait for the retry.
  [ -e st ]
  [ "$(s3_uploads "$b")" -eq 1 ]
  ! s3_exists "$b" k
  run_split "$PUT" --endpoint-url "$url" --complete st
  assert_status 0
  s3_get "$b" k back
  cmp in back
  # Now the answer to an applied Complete is lost: HEAD recognises it.
  kill "$(cat proxy.pid)"; rm -f proxy.port
  url=$(start_proxy --rate 1 --kinds lost --match '^POST .*uploadId=' --max 1)
  head -c $((12 * 1048576)) /dev/urandom >in2
  run_split "$PUT" --endpoint-url "$url" -p 5M --prepare st "s3://$b/k" <in2
  assert_status 0
  cp st st.copy
  run_split "$PUT" --endpoint-url "$url" -r 0 --complete st
  assert_status 0
  grep -q '^FAULT lost POST' proxy.log
  [ ! -e st ]
  s3_get "$b" k back
  cmp in2 back
  # --abort of an upload that was completed leaves the object alone.
  run_split "$PUT" --endpoint-url "$url" --abort st.copy
  assert_status 0
  s3_get "$b" k back
  cmp in2 back
  [ "$(s3_uploads "$b")" -eq 0 ]
}

@test "moma-put: kill -9 at any moment of --prepare: --abort STATE leaves no upload" {
  local b=moma-kill9
  s3_mb "$b"
  head -c $((40 * 1048576)) /dev/urandom >in
  for d in 0.05 0.2 0.4 0.8 1.2; do
    rm -f st
    "$PUT" -p 5M -j 2 --prepare st "s3://$b/k" < <(cat in; sleep 5) &
    local pid=$!
    sleep "$d"
    kill -KILL "$pid"
    wait "$pid" || true
    if [ -e st ]; then
      run_split "$PUT" --abort st
      assert_status 0
    fi
    # The state is written before Create is sent, so every upload the
    # run made is reachable from it.
    [ "$(s3_uploads "$b")" -eq 0 ]
  done
}

@test "moma-put: --list-uploads shows a killed one-shot upload, --abort-uploads clears it" {
  local b=moma-leftover
  s3_mb "$b"
  head -c $((20 * 1048576)) /dev/urandom >in
  "$PUT" -p 5M "s3://$b/zone/3/carousel.bin" < <(cat in; sleep 30) &
  local pid=$!
  wait_for 20 uploads_are "$b" 1
  kill -KILL "$pid"
  wait "$pid" || true
  run_split "$PUT" --list-uploads "s3://$b"
  assert_status 0
  [ "$(wc -l <<<"$output")" -eq 1 ]
  [[ $output == "zone/3/carousel.bin"$'\t'* ]]
  run_split "$PUT" --list-uploads "s3://$b/other/"
  assert_status 0
  [ -z "$output" ]
  # Younger than an hour: kept.
  run_split "$PUT" --older-than 1h --abort-uploads "s3://$b/zone/"
  assert_status 0
  [ -z "$output" ]
  [ "$(s3_uploads "$b")" -eq 1 ]
  run_split "$PUT" --abort-uploads "s3://$b/zone/"
  assert_status 0
  [[ $output == "zone/3/carousel.bin"$'\t'* ]]
  [ "$(s3_uploads "$b")" -eq 0 ]
  run_split "$PUT" --older-than 5x --abort-uploads "s3://$b"
  assert_status "$EX_USAGE"
}

@test "moma-put: keys with . or .. segments, control characters or over 1024 bytes are refused" {
  local b=moma-keys
  s3_mb "$b"
  s3_mb other
  echo x >in
  local long
  long=$(printf 'k%.0s' $(seq 1 1025))
  for k in ../other/k a/../b ./a a/./b a/.. . .. $'a\nb' $'a\tb' $'a\x7fb' "" \
      "$long" "$(printf 'bad\xffutf8')"; do
    run_split "$PUT" "s3://$b/$k" <in
    assert_status "$EX_USAGE"
    [[ $stderr == *"moma-put: "* ]]
  done
  # Nothing was stored anywhere.
  [ "$(s3_curl "$b" | grep -c '<Key>')" -eq 0 ]
  [ "$(s3_curl other | grep -c '<Key>')" -eq 0 ]
}

@test "moma-put: odd keys round-trip: spaces, + % ? # // and UTF-8" {
  local b=moma-oddkeys
  s3_mb "$b"
  head -c 1000 /dev/urandom >in
  head -c $((6 * 1048576)) /dev/urandom >big
  local k
  for k in "a b" "a+b" "100%" "why?" "x#y" "a//b" "Réunion/carousel €.bin" "~tilde=eq&amp"; do
    run_split "$PUT" "s3://$b/$k" <in
    assert_status 0
    run_split "$PUT" --head "s3://$b/$k"
    assert_status 0
    [[ $output == *"size 1000"* ]]
    # Read back by an independent client, the key encoded by jq.
    local enc
    enc=$(jq -rn --arg k "$k" '$k | @uri' | sed 's/%2F/\//g')
    s3_get "$b" "$enc" back
    cmp in back
  done
  run_split "$PUT" -p 5M "s3://$b/multi part ü" <big
  assert_status 0
  s3_get "$b" "multi%20part%20%C3%BC" back
  cmp big back
}

@test "moma-put: --meta is sent on PutObject and Create, --head reads it back" {
  local b=moma-meta
  s3_mb "$b"
  echo small >in
  run_split "$PUT" --meta moma-zone=3 --meta Moma-Messages=42 "s3://$b/small" <in
  assert_status 0
  run_split "$PUT" --head "s3://$b/small"
  assert_status 0
  [[ $output == *"meta-moma-zone 3"* && $output == *"meta-moma-messages 42"* ]]
  head -c $((6 * 1048576)) /dev/urandom >big
  run_split "$PUT" -p 5M --meta moma-zone=4 --prepare st "s3://$b/big" <big
  assert_status 0
  run_split "$PUT" --complete st
  assert_status 0
  run_split "$PUT" --head "s3://$b/big"
  assert_status 0
  [[ $output == *"meta-moma-zone 4"* ]]
  [[ $output == *"etag $(multipart_etag big 5242880)"* ]]
  run_split "$PUT" --head "s3://$b/none"
  assert_status "$EX_NOINPUT"
  for m in "=x" "a b=x" "noequals" "k=$(printf 'caf\xc3\xa9')" $'k=a\nb'; do
    run_split "$PUT" --meta "$m" "s3://$b/k" <in
    assert_status "$EX_USAGE"
  done
}

@test "moma-put --get: a small object's bytes on stdout; none is 66; over 1 MiB is 65" {
  local b=moma-get
  s3_mb "$b"
  head -c 70000 /dev/urandom >small
  "$PUT" "s3://$b/small" <small
  "$PUT" --get "s3://$b/small" >got
  cmp got small
  : >empty
  "$PUT" "s3://$b/empty" <empty
  "$PUT" --get "s3://$b/empty" >got
  [ ! -s got ]
  run_split "$PUT" --get "s3://$b/none"
  assert_status "$EX_NOINPUT"
  head -c $((1048576 + 1)) /dev/zero >big
  "$PUT" "s3://$b/big" <big
  run_split "$PUT" --get "s3://$b/big"
  assert_status "$EX_DATAERR"
  [[ $stderr == *"larger than 1048576 bytes"* ]]
  [ -z "$output" ]
  run_split "$PUT" --get "s3://$b/small" --head "s3://$b/small"
  assert_status "$EX_USAGE"
}

@test "moma-put: a tampered state file is refused and nothing is sent" {
  local b=moma-tamper
  s3_mb "$b"
  head -c $((6 * 1048576)) /dev/urandom >in
  run_split "$PUT" -p 5M --prepare st "s3://$b/k" <in
  assert_status 0
  # A listener on another loopback address counts what reaches it.
  python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.2", 0)); s.listen(8)
open("other.port", "w").write(str(s.getsockname()[1]))
s.settimeout(20)
n = 0
try:
    while True:
        c, _ = s.accept(); n += 1; open("other.hits", "w").write(str(n)); c.close()
except Exception:
    pass
' &
  echo $! >proxy.pid
  wait_for 10 test -s other.port
  local port
  port=$(cat other.port)
  sed "s|^endpoint .*|endpoint http://127.0.0.2:$port|" st >st.other
  run_split "$PUT" --complete st.other
  assert_status "$EX_DATAERR"
  [[ $stderr == *"http://127.0.0.2:$port"*"$AWS_ENDPOINT_URL"* ]]
  # The same state under a configuration that names the other host: also
  # refused, since the state names ours.
  run_split "$PUT" --endpoint-url "http://127.0.0.2:$port" --abort st
  assert_status "$EX_DATAERR"
  sed "s|^endpoint http://|endpoint https://|" st >st.tls
  run_split "$PUT" --abort st.tls
  assert_status "$EX_DATAERR"
  sed 's|^key k$|key k\nextra line|' st >st.extra
  run_split "$PUT" --complete st.extra
  assert_status "$EX_DATAERR"
  sed 's|^bucket .*|bucket ../x|' st >st.bucket
  run_split "$PUT" --complete st.bucket
  assert_status "$EX_DATAERR"
  [ ! -e other.hits ]
  # The real state still works.
  run_split "$PUT" --complete st
  assert_status 0
  s3_get "$b" k back
  cmp in back
}

@test "moma-put: --prepare refuses a symlink at STATE.tmp before sending anything" {
  local b=moma-symlink
  s3_mb "$b"
  echo precious >target
  ln -s target st.tmp
  head -c $((6 * 1048576)) /dev/urandom >in
  run_split "$PUT" -p 5M --prepare st "s3://$b/k" <in
  assert_status "$EX_CANTCREAT"
  [[ $stderr == *"st.tmp"*"symlink"* ]]
  [ "$(cat target)" = precious ]
  [ "$(s3_uploads "$b")" -eq 0 ]
  # An existing state file is not overwritten either (its upload would be lost).
  rm st.tmp
  echo "moma-put-state 2" >st
  run_split "$PUT" -p 5M --prepare st "s3://$b/k" <in
  assert_status "$EX_CANTCREAT"
  [ "$(s3_uploads "$b")" -eq 0 ]
  # A state file is mode 0600.
  rm st
  run_split "$PUT" -p 5M --prepare st "s3://$b/k" <in
  assert_status 0
  [ "$(stat -c %a st)" = 600 ]
  "$PUT" --abort st
}

@test "moma-put: plain http to a TLS port and TLS to a plain port are configuration errors" {
  openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 \
    -subj /CN=127.0.0.1 2>/dev/null
  python3 -c '
import socket, ssl
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain("cert.pem", "key.pem")
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open("tls.port", "w").write(str(s.getsockname()[1]))
s.settimeout(30)
while True:
    try:
        c, _ = s.accept()
    except Exception:
        break
    try:
        ctx.wrap_socket(c, server_side=True).close()
    except Exception:
        c.close()
' &
  echo $! >proxy.pid
  wait_for 10 test -s tls.port
  echo x >in
  run_split "$PUT" --endpoint-url "http://127.0.0.1:$(cat tls.port)" "s3://$BKT/k" <in
  assert_status "$EX_CONFIG"
  [[ $stderr == *"https://"* ]]
  [[ $stderr != *"attempts"* ]]
  run_split "$PUT" --endpoint-url "https://${AWS_ENDPOINT_URL#http://}" "s3://$BKT/k" <in
  assert_status "$EX_CONFIG"
  [[ $stderr == *"does not speak TLS"* ]]
}
