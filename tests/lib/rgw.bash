# rgw.bash - bats helpers for a second real S3 server: Ceph radosgw on a
# one-node cluster (one monitor, one memstore OSD, no authentication
# inside the cluster), all on loopback on free ports, data under a temp
# directory, with radosgw's STS enabled (rgw_s3_auth_use_sts) and a role
# created by radosgw-admin, so that AssumeRole and session tokens are
# checked by a real server.  Debian 12's radosgw (16.2, Pacific) has no
# dbstore backend, hence the monitor and OSD.  Starts in about 10 s.
#
#   setup_file()    { rgw_start; }     # once per .bats file
#   teardown_file() { rgw_stop; }
#
# Exports RGW_DIR, RGW_URL, RGW_REGION, RGW_ROLE_ARN, RGW_DNS (the
# rgw_dns_name for virtual-hosted addressing), RGW_KMS_KEY (a key id of
# the "testing" KMS backend), RGW_USER_FILE (the test user's "key:secret",
# for curl -K and the stand-ins) and RGW_NETRC (the same for curl
# --netrc-file).  The keys protect nothing: they exist only here.

RGW_ACCESS=MOMATESTER0000000001
RGW_SECRET=moma-rgw-test-secret-not-a-secret
RGW_REGION=us-east-1
RGW_DNS=s3.moma.test
RGW_KMS_KEY=moma-test-key-1

# free_port: a free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# rgw_start [DIR]: start the cluster and radosgw, create the user, role
# and storage class.
rgw_start() {
  local dir=${1:-$BATS_FILE_TMPDIR/rgw} monport rgwport fsid uuid id kms
  for b in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph-authtool; do
    command -v "$b" >/dev/null || { echo "rgw_start: $b missing (scripts/dev/moma-deps test)" >&2; return 1; }
  done
  mkdir -p "$dir"/{mon,osd,run}
  monport=$(free_port) rgwport=$(free_port)
  fsid=$(cat /proc/sys/kernel/random/uuid)
  kms=$(head -c 32 /dev/urandom | base64)
  cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$monport
mon_initial_members = a
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
ms_mon_client_mode = crc
ms_client_mode = crc
ms_bind_ipv6 = false
public_addr = 127.0.0.1
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_max_pg_per_osd = 1000
mon_data_avail_warn = 1
osd_objectstore = memstore
memstore_device_bytes = 2147483648
osd_crush_chooseleaf_type = 0
run_dir = $dir/run
admin_socket = $dir/run/\$name.asok
log_file = $dir/\$name.log
pid_file = $dir/run/\$name.pid
keyring = $dir/keyring
mon_data = $dir/mon
osd_data = $dir/osd
[client.rgw]
rgw_frontends = beast endpoint=127.0.0.1:$rgwport
rgw_dns_name = $RGW_DNS
rgw_s3_auth_use_sts = true
rgw_sts_key = momatestsktskey1
rgw_sts_min_session_duration = 10
rgw_crypt_s3_kms_backend = testing
rgw_crypt_s3_kms_encryption_keys = $RGW_KMS_KEY=$kms
rgw_crypt_require_ssl = false
rgw_data = $dir/rgw
EOF
  local C=(-c "$dir/ceph.conf")
  ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null &&
    monmaptool --create --addv a "[v2:127.0.0.1:$monport]" --fsid "$fsid" "$dir/monmap" >/dev/null &&
    ceph-mon "${C[@]}" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring" || return 1
  ceph-mon "${C[@]}" -i a -f >"$dir/mon.out" 2>&1 &
  echo $! >"$dir/mon.pid"
  wait_for 30 timeout 5 ceph "${C[@]}" mon stat || { echo "rgw_start: monitor not up" >&2; return 1; }
  uuid=$(cat /proc/sys/kernel/random/uuid)
  id=$(timeout 20 ceph "${C[@]}" osd new "$uuid") &&
    ceph-osd "${C[@]}" -i "$id" --mkfs --osd-uuid "$uuid" >"$dir/osd-mkfs.out" 2>&1 || return 1
  ceph-osd "${C[@]}" -i "$id" -f >"$dir/osd.out" 2>&1 &
  echo $! >"$dir/osd.pid"
  radosgw "${C[@]}" -n client.rgw -f >"$dir/rgw.out" 2>&1 &
  echo $! >"$dir/rgw.pid"
  wait_for 60 curl -sf -o /dev/null "http://127.0.0.1:$rgwport/" ||
    { echo "rgw_start: radosgw not up (see $dir/rgw.out)" >&2; return 1; }
  # The user (who may create roles), the role it may assume, and a second
  # storage class, which radosgw reads when it starts again.
  local A=(timeout 60 radosgw-admin "${C[@]}")
  "${A[@]}" user create --uid=tester --display-name=tester --access-key="$RGW_ACCESS" \
      --secret="$RGW_SECRET" >/dev/null &&
    "${A[@]}" caps add --uid=tester --caps="roles=*" >/dev/null &&
    "${A[@]}" role create --role-name=moma --assume-role-policy-doc='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam:::user/tester"]},"Action":["sts:AssumeRole"]}]}' >/dev/null &&
    "${A[@]}" role-policy put --role-name=moma --policy-name=s3 --policy-doc='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":"arn:aws:s3:::*"}]}' >/dev/null &&
    "${A[@]}" zonegroup placement add --rgw-zonegroup default --placement-id default-placement \
      --storage-class COLD >/dev/null &&
    "${A[@]}" zone placement add --rgw-zone default --placement-id default-placement \
      --storage-class COLD --data-pool default.rgw.cold.data >/dev/null ||
    { echo "rgw_start: radosgw-admin failed (see $dir/client.rgw.log)" >&2; return 1; }
  rgw_stop_one "$dir" rgw
  radosgw "${C[@]}" -n client.rgw -f >"$dir/rgw.out" 2>&1 &
  echo $! >"$dir/rgw.pid"
  RGW_DIR=$dir RGW_URL=http://127.0.0.1:$rgwport RGW_ROLE_ARN=arn:aws:iam:::role/moma
  RGW_USER_FILE=$dir/user RGW_NETRC=$dir/netrc
  (umask 077; echo "$RGW_ACCESS:$RGW_SECRET" >"$RGW_USER_FILE"
   echo "machine 127.0.0.1 login $RGW_ACCESS password $RGW_SECRET" >"$RGW_NETRC")
  export RGW_DIR RGW_URL RGW_REGION RGW_ROLE_ARN RGW_DNS RGW_KMS_KEY RGW_USER_FILE RGW_NETRC
  wait_for 60 curl -sf -o /dev/null "$RGW_URL/" || { echo "rgw_start: radosgw not up (see $dir/rgw.out)" >&2; return 1; }
}

# rgw_stop_one DIR NAME: stop the daemon whose PID is in DIR/NAME.pid.
rgw_stop_one() {
  local pid
  [ -f "$1/$2.pid" ] || return 0
  pid=$(cat "$1/$2.pid")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

# rgw_stop [DIR]: stop radosgw, the OSD and the monitor by their PIDs.
rgw_stop() {
  local dir=${1:-${RGW_DIR:-$BATS_FILE_TMPDIR/rgw}} d
  for d in rgw osd mon; do rgw_stop_one "$dir" "$d"; done
}

# rgw_curl [curl args...] PATH: a request to $RGW_URL/PATH signed as the test user.
rgw_curl() {
  local path=${*: -1}
  curl -sS --max-time 30 --aws-sigv4 "aws:amz:$RGW_REGION:s3" --netrc-file "$RGW_NETRC" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "${@:1:$#-1}" "$RGW_URL/$path"
}

# rgw_mb BUCKET: create a bucket owned by the test user.
rgw_mb() {
  local code
  code=$(rgw_curl -o /dev/null -w '%{http_code}' -X PUT "$1")
  [ "$code" = 200 ] || [ "$code" = 409 ]
}

# rgw_get BUCKET KEY FILE: fetch an object; fails unless 200.
rgw_get() {
  local code
  code=$(rgw_curl -o "$3" -w '%{http_code}' "$1/$2")
  [ "$code" = 200 ] || { echo "GET $1/$2: HTTP $code" >&2; return 1; }
}

# rgw_head BUCKET KEY: print the object's response headers (CRs removed).
rgw_head() {
  rgw_curl -I "$1/$2" | tr -d '\r'
}

# rgw_assume [DURATION]: print "key secret token" of a fresh AssumeRole
# session of the role, from radosgw's STS.
rgw_assume() {
  local xml
  xml=$(curl -sS --max-time 20 --aws-sigv4 "aws:amz:$RGW_REGION:sts" --netrc-file "$RGW_NETRC" \
    -d "Action=AssumeRole&Version=2011-06-15&RoleArn=$RGW_ROLE_ARN&RoleSessionName=moma-test&DurationSeconds=${1:-900}" \
    "$RGW_URL/") || return 1
  python3 -c 'import sys, xml.etree.ElementTree as E
r = {e.tag.split("}")[-1]: e.text for e in E.fromstring(sys.stdin.read()).iter()}
print(r["AccessKeyId"], r["SecretAccessKey"], r["SessionToken"])' <<<"$xml"
}

# standin_start MODE NAME [args...]: start tests/credstandin.py against
# radosgw; its PID in NAME.pid, its port in NAME.port, its log NAME.log.
standin_start() {
  local mode=$1 name=$2
  shift 2
  "$TOP/tests/credstandin.py" "$mode" --rgw "$RGW_URL" --region "$RGW_REGION" \
    --role "$RGW_ROLE_ARN" --user-file "$RGW_USER_FILE" "$@" "$name.port" "$name.log" \
    >"$name.err" 2>&1 &
  echo $! >"$name.pid"
  wait_for 10 test -s "$name.port"
}
