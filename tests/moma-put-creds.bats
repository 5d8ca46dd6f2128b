#!/usr/bin/env bats
# moma-put's credential chain and object options against Ceph radosgw, a
# second real S3 server beside Swift, with radosgw's STS: every AssumeRole
# and every session token below is checked by radosgw.  The EC2 metadata
# service, the container credentials endpoint and STS's
# AssumeRoleWithWebIdentity are loopback stand-ins (tests/credstandin.py)
# that serve temporary credentials they got from radosgw's STS.
# Objects are read back with curl's own SigV4 client and compared with cmp.

load helpers
load lib/rgw

BKT=moma-creds

setup_file() {
  rgw_start
  rgw_mb "$BKT"
}

teardown_file() {
  rgw_stop
}

setup() {
  cd "$BATS_TEST_TMPDIR"
  # Only what each test sets: no keys, profile or endpoint from outside.
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE \
    AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_STS AWS_CA_BUNDLE AWS_CONFIG_FILE \
    AWS_SHARED_CREDENTIALS_FILE AWS_EC2_METADATA_SERVICE_ENDPOINT
  export HOME=$BATS_TEST_TMPDIR AWS_REGION=$RGW_REGION AWS_ENDPOINT_URL=$RGW_URL
  head -c 300000 /dev/urandom >small
}

teardown() {
  local f
  for f in "$BATS_TEST_TMPDIR"/*.pid; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
}

# user_keys: export the test user's static keys.
user_keys() {
  export AWS_ACCESS_KEY_ID=${RGW_USER_KEY:=$(cut -d: -f1 "$RGW_USER_FILE")}
  export AWS_SECRET_ACCESS_KEY=$(cut -d: -f2- "$RGW_USER_FILE")
}

# put_check KEY FILE [moma-put options...]: upload FILE, read it back, cmp.
put_check() {
  local key=$1 file=$2
  shift 2
  run_split "$PUT" "$@" "s3://$BKT/$key" <"$file"
  assert_status 0
  rgw_get "$BKT" "$key" back
  cmp "$file" back
}

# no_secret_in FILE...: none of the lines of secrets.txt (and no user
# secret) appears in $stderr or $output.
no_secret_in() {
  local s
  while read -r s; do
    [ -n "$s" ] || continue
    [[ $stderr != *"$s"* && $output != *"$s"* ]] || { echo "secret printed" >&2; return 1; }
  done < <(cat "$@" 2>/dev/null; cut -d: -f2- "$RGW_USER_FILE")
}

@test "radosgw: moma-put round trips with static keys (empty, one part, multipart)" {
  user_keys
  : >empty
  put_check empty empty
  put_check small small
  head -c $((12 * 1024 * 1024 + 17)) /dev/urandom >big
  put_check big big -p 5M -j 2
  # The multipart ETag radosgw computed is the one of our parts.
  [[ $(rgw_head "$BKT" big) == *'-3"'* ]]
}

@test "no credentials: exit 78 naming every place looked, the metadata service tried" {
  run_split env -u AWS_EC2_METADATA_DISABLED AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1 \
    "$PUT" "s3://$BKT/none" <small
  assert_status "$EX_CONFIG"
  for w in "no credentials" AWS_ACCESS_KEY_ID AWS_WEB_IDENTITY_TOKEN_FILE "profile [default]" \
    "$HOME/.aws/credentials" "$HOME/.aws/config" AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
    "EC2 instance metadata at http://127.0.0.1:1 (no answer)"; do
    [[ $stderr == *"$w"* ]] || { echo "missing: $w" >&2; return 1; }
  done
  run_split "$PUT" "s3://$BKT/none" <small
  assert_status "$EX_CONFIG"
  [[ $stderr == *"disabled by AWS_EC2_METADATA_DISABLED"* ]]
  # Half a key pair, or a named profile that does not exist, is an error too.
  AWS_ACCESS_KEY_ID=x run_split "$PUT" "s3://$BKT/none" <small
  assert_status "$EX_CONFIG"
  [[ $stderr == *"AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"* ]]
  run_split "$PUT" --profile nosuch "s3://$BKT/none" <small
  assert_status "$EX_CONFIG"
  [[ $stderr == *"profile [nosuch] not found"* ]]
  mkdir -p .aws
  printf '[default]\naws_access_key_id = x\n' >.aws/credentials
  run_split "$PUT" "s3://$BKT/none" <small
  assert_status "$EX_CONFIG"
  [[ $stderr == *"profile [default]: aws_access_key_id without aws_secret_access_key"* ]]
}

@test "environment session token: radosgw checks it (a wrong one is refused)" {
  read -r ak sk tok < <(rgw_assume)
  echo "$sk" >secrets.txt; echo "$tok" >>secrets.txt
  AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk AWS_SESSION_TOKEN=$tok put_check envtok small -v
  [[ $stderr == *"credentials: environment (AWS_ACCESS_KEY_ID, AWS_SESSION_TOKEN)"* ]]
  no_secret_in secrets.txt
  AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk AWS_SESSION_TOKEN=${tok}x \
    run_split "$PUT" -r 0 "s3://$BKT/badtok" <small
  [ "$status" -ne 0 ]
  ! rgw_get "$BKT" badtok back 2>/dev/null
}

@test "profile role_arn + source_profile: STS AssumeRole signed with SigV4, verified by radosgw" {
  ak=$(cut -d: -f1 "$RGW_USER_FILE") sk=$(cut -d: -f2- "$RGW_USER_FILE")
  mkdir -p .aws
  printf '[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$ak" "$sk" >.aws/credentials
  printf '[profile moma]\nrole_arn = %s\nsource_profile = base\nrole_session_name = batch\nduration_seconds = 900\n\n[profile wrong]\nrole_arn = arn:aws:iam:::role/nosuch\nsource_profile = base\n' \
    "$RGW_ROLE_ARN" >.aws/config
  head -c $((6 * 1024 * 1024)) /dev/urandom >six
  put_check role six -v -p 5M --profile moma
  [[ $stderr == *"credentials: profile [moma], role $RGW_ROLE_ARN via STS AssumeRole with source_profile base, expires 20"* ]]
  no_secret_in
  # AWS_PROFILE does the same; a role radosgw does not know is refused by it.
  AWS_PROFILE=moma put_check role2 small
  run_split "$PUT" --profile wrong "s3://$BKT/wrong" <small
  assert_status "$EX_CONFIG"
  [[ $stderr == *"STS AssumeRole at $RGW_URL/: HTTP 4"* ]]
}

@test "profile role_arn + credential_source Environment; credential_process with Expiration" {
  user_keys
  mkdir -p .aws
  printf '[default]\nrole_arn = %s\ncredential_source = Environment\n' "$RGW_ROLE_ARN" >.aws/config
  # --profile names the profile: the environment's keys only sign AssumeRole.
  put_check credsrc small -v --profile default
  [[ $stderr == *"role $RGW_ROLE_ARN via STS AssumeRole with credential_source Environment"* ]]
  read -r ak sk tok < <(rgw_assume 900)
  exp=$(date -u -d '+14 min' +%Y-%m-%dT%H:%M:%SZ)
  printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s", "SessionToken": "%s", "Expiration": "%s"}\n' \
    "$ak" "$sk" "$tok" "$exp" >process.json
  printf '[profile proc]\ncredential_process = cat %s/process.json\n' "$PWD" >.aws/config
  echo "$sk" >secrets.txt; echo "$tok" >>secrets.txt
  put_check process small -v --profile proc
  [[ $stderr == *"credentials: profile [proc], credential_process, expires $exp"* ]]
  no_secret_in secrets.txt
  # A process that fails, or answers without "Version": 1, stops the chain.
  printf '[profile proc]\ncredential_process = sh -c "exit 3"\n' >.aws/config
  run_split "$PUT" --profile proc "s3://$BKT/p2" <small
  assert_status "$EX_CONFIG"
  [[ $stderr == *"profile [proc]: credential_process: exit status 3"* ]]
  printf '[profile proc]\ncredential_process = echo {}\n' >.aws/config
  run_split "$PUT" --profile proc "s3://$BKT/p2" <small
  assert_status "$EX_CONFIG"
  [[ $stderr == *'not JSON with "Version": 1'* ]]
}

@test "EC2 instance metadata (IMDSv2 stand-in): credentials from radosgw's STS" {
  standin_start imds imds --secrets-file secrets.txt
  export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$(cat imds.port)
  unset AWS_EC2_METADATA_DISABLED
  # The stand-in refuses IMDSv1 (no token), as IMDS does with v2 required.
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$AWS_EC2_METADATA_SERVICE_ENDPOINT/latest/meta-data/iam/security-credentials/")" = 401 ]
  put_check imds small -v
  [[ $stderr == *"credentials: EC2 instance metadata (IMDSv2) at $AWS_EC2_METADATA_SERVICE_ENDPOINT, role moma-standin-role, expires 20"* ]]
  grep -q '^PUT /latest/api/token 200 token ttl=21600' imds.log
  grep -q '^GET /latest/meta-data/iam/security-credentials/moma-standin-role 200' imds.log
  ! grep -q ' 401 ' <(grep -v '^GET /latest/meta-data/iam/security-credentials/ 401' imds.log | tail -n +2)
  no_secret_in secrets.txt
}

@test "container credentials (FULL_URI stand-in, token file); loopback or HTTPS only" {
  echo "Bearer moma-container-token" >auth
  standin_start container ctr --auth-file auth --path /v1/credentials --secrets-file secrets.txt
  export AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$(cat ctr.port)/v1/credentials
  AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$PWD/auth put_check ctr small -v
  [[ $stderr == *"credentials: container credentials at $AWS_CONTAINER_CREDENTIALS_FULL_URI (token file), expires 20"* ]]
  AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer moma-container-token" put_check ctr2 small
  echo "moma-container-token" >>secrets.txt
  no_secret_in secrets.txt
  # A wrong token is refused by the endpoint; plain http off loopback is
  # refused before anything is sent.
  AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong run_split "$PUT" "s3://$BKT/c3" <small
  assert_status "$EX_CONFIG"
  [[ $stderr == *"container credentials at $AWS_CONTAINER_CREDENTIALS_FULL_URI: HTTP 401"* ]]
  [[ $stderr != *wrong* ]]
  AWS_CONTAINER_CREDENTIALS_FULL_URI=http://metadata.invalid/creds run_split "$PUT" "s3://$BKT/c3" <small
  assert_status "$EX_CONFIG"
  [[ $stderr == *"plain http:// only to a loopback address"* ]]
  [ "$(grep -c ' 401 ' ctr.log)" -eq 1 ]
}

@test "web identity: AssumeRoleWithWebIdentity as sent (STS stand-in), upload to radosgw" {
  echo "eyJhbGciOiJSUzI1NiJ9.moma-oidc-token.sig" >token
  cp token expected
  standin_start sts sts --auth-file expected --secrets-file secrets.txt
  export AWS_WEB_IDENTITY_TOKEN_FILE=$PWD/token AWS_ROLE_ARN=$RGW_ROLE_ARN \
    AWS_ROLE_SESSION_NAME=ci-run-7 AWS_ENDPOINT_URL_STS=http://127.0.0.1:$(cat sts.port)
  put_check webid small -v
  [[ $stderr == *"credentials: web identity from $PWD/token, role $RGW_ROLE_ARN, expires 20"* ]]
  grep -q '^POST / 200 credentials 1 session=ci-run-7' sts.log
  cat token >>secrets.txt
  no_secret_in secrets.txt
  # A token the provider does not accept: STS's error, exit 78.
  echo other >token
  run_split "$PUT" "s3://$BKT/webid2" <small
  assert_status "$EX_CONFIG"
  [[ $stderr == *"STS AssumeRoleWithWebIdentity at $AWS_ENDPOINT_URL_STS/: HTTP 403 AccessDenied: bad WebIdentityToken"* ]]
}

@test "refresh: 30 s credentials renewed during a slow multipart upload, no part lost" {
  standin_start imds imds --duration 30
  export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$(cat imds.port)
  unset AWS_EC2_METADATA_DISABLED
  head -c $((20 * 1024 * 1024)) /dev/urandom >slow
  # Four 5 MiB parts, one every 12 s: the first credentials have expired
  # (radosgw would refuse them) before the third part is sent.
  mkfifo fifo
  { for i in 0 1 2 3; do dd if=slow bs=1M skip=$((i * 5)) count=5 status=none; sleep 12; done; } >fifo &
  echo $! >feeder.pid
  run_split "$PUT" -v -p 5M -j 1 "s3://$BKT/slow" <fifo
  assert_status 0
  rgw_get "$BKT" slow back
  cmp slow back
  [[ $stderr == *"credentials renewed: EC2 instance metadata"* ]]
  [ "$(grep -c 'credentials' imds.log)" -ge 3 ]
  [[ $stderr != *"retry"* ]]
}

@test "--storage-class and --sse, read by radosgw; bad values refused before any request" {
  user_keys
  put_check cold small --storage-class COLD
  [[ $(rgw_head "$BKT" cold) == *"X-Amz-Storage-Class: COLD"* ]]
  head -c $((11 * 1024 * 1024)) /dev/urandom >big
  put_check coldbig big -p 5M --storage-class COLD --sse AES256
  [[ $(rgw_head "$BKT" coldbig) == *"X-Amz-Storage-Class: COLD"* ]]
  # radosgw 16 reads x-amz-server-side-encryption: aws:kms wants a key id.
  run_split "$PUT" -r 0 --sse aws:kms "s3://$BKT/kms" <small
  assert_status "$EX_PROTOCOL"
  [[ $stderr == *"InvalidArgument: Server Side Encryption with KMS managed key requires HTTP header x-amz-server-side-encryption-aws-kms-key-id"* ]]
  ! rgw_get "$BKT" kms back 2>/dev/null
  # Multipart too: the headers go on CreateMultipartUpload.
  run_split "$PUT" -r 0 -p 5M --sse aws:kms "s3://$BKT/kms" <big
  assert_status "$EX_PROTOCOL"
  [[ $stderr == *"CreateMultipartUpload"*"x-amz-server-side-encryption-aws-kms-key-id"* ]]
  # Bad values are usage errors, before any request.
  for a in "--sse AES128" "--sse-kms-key-id k" "--storage-class cold" "--storage-class STANDARD-IA"; do
    run_split "$PUT" $a "s3://$BKT/bad" <small
    assert_status "$EX_USAGE"
  done
  # libcurl before 8.10 signs the KMS key id header out of order: refused, named.
  run_split "$PUT" --sse aws:kms --sse-kms-key-id "$RGW_KMS_KEY" "s3://$BKT/kmsid" <small
  if [ "$(curl-config --vernum)" \< 080a00 ]; then
    assert_status "$EX_USAGE"
    [[ $stderr == *"signs it wrongly (fixed in libcurl 8.10.0)"* ]]
  else
    assert_status 0
    [[ $(rgw_head "$BKT" kmsid) == *"$RGW_KMS_KEY"* ]]
  fi
}

@test "virtual-hosted addressing against radosgw (rgw_dns_name, MOMA_PUT_RESOLVE); --path-style" {
  user_keys
  local port=${RGW_URL##*:}
  mkdir -p .aws
  printf '[default]\ns3 =\n    addressing_style = virtual\n' >.aws/config
  export AWS_ENDPOINT_URL=http://$RGW_DNS:$port
  # The bucket's host name leads to radosgw, the bare endpoint's to a
  # closed port of 127.0.0.2: no name server is asked, and only
  # virtual-hosted requests can succeed.
  export MOMA_PUT_RESOLVE=$BKT.$RGW_DNS:$port:127.0.0.1,$RGW_DNS:$port:127.0.0.2
  put_check vhost small
  head -c $((6 * 1024 * 1024)) /dev/urandom >six
  put_check vhostbig six -p 5M
  run_split "$PUT" -r 0 --path-style "s3://$BKT/pstyle" <small
  assert_status "$EX_UNAVAILABLE"
  [[ $stderr == *"connect to $RGW_DNS port $port"* ]]
  printf '[default]\ns3 =\n    addressing_style = sideways\n' >.aws/config
  run_split "$PUT" "s3://$BKT/bad" <small
  assert_status "$EX_CONFIG"
  [[ $stderr == *"addressing_style 'sideways'"* ]]
}
