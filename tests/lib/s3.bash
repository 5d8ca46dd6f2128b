# s3.bash - bats helpers for tests that need a real S3 server: a local
# OpenStack Swift with s3api, started by scripts/dev/moma-s3-server.
#
#   setup_file()    { s3_start; }      # once per .bats file
#   teardown_file() { s3_stop; }
#
# Objects are checked with an independent client: curl's own SigV4
# signing (--aws-sigv4), never moma-put's code.

S3_SERVER=$TOP/scripts/dev/moma-s3-server
S3_EMPTY_SHA=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

# s3_start [DIR]: start a server (default $BATS_FILE_TMPDIR/s3) and export
# its environment (AWS_ENDPOINT_URL, keys, region, MOMA_S3_DIR, MOMA_S3_NETRC).
s3_start() {
  local dir=${1:-$BATS_FILE_TMPDIR/s3} envs
  envs=$("$S3_SERVER" start "$dir") || return 1
  eval "$envs"
  export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION \
    AWS_DEFAULT_REGION MOMA_S3_DIR MOMA_S3_NETRC
  # moma-put must not see a stray CA bundle or profile from the host.
  unset AWS_CA_BUNDLE AWS_PROFILE AWS_ENDPOINT_URL_S3
}

# s3_stop [DIR]: stop the servers by their recorded PIDs.
s3_stop() {
  "$S3_SERVER" stop "${1:-${MOMA_S3_DIR:-$BATS_FILE_TMPDIR/s3}}"
}

# s3_curl [curl args...] PATH: a signed request to $AWS_ENDPOINT_URL/PATH.
s3_curl() {
  local path=${*: -1}
  curl -sS --max-time 30 --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
    --netrc-file "$MOMA_S3_NETRC" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    "${@:1:$#-1}" "$AWS_ENDPOINT_URL/$path"
}

# s3_mb BUCKET: create a bucket (200, or 409 if it exists).
s3_mb() {
  local code
  code=$(s3_curl -o /dev/null -w '%{http_code}' -X PUT "$1")
  [ "$code" = 200 ] || [ "$code" = 409 ]
}

# s3_get BUCKET KEY FILE: fetch an object into FILE; fails unless 200.
s3_get() {
  local code
  code=$(s3_curl -o "$3" -w '%{http_code}' "$1/$2")
  [ "$code" = 200 ] || { echo "GET $1/$2: HTTP $code" >&2; return 1; }
}

# s3_exists BUCKET KEY: 0 if the object exists (HEAD 200).
s3_exists() {
  [ "$(s3_curl -o /dev/null -w '%{http_code}' -I "$1/$2")" = 200 ]
}

# s3_etag BUCKET KEY: print the object's ETag, unquoted.
s3_etag() {
  s3_curl -I "$1/$2" | tr -d '\r' | awk 'tolower($1) == "etag:" { gsub(/"/, "", $2); print $2 }'
}

# s3_uploads BUCKET: print the number of open multipart uploads.
s3_uploads() {
  local xml
  xml=$(s3_curl "$1?uploads=") || return 1
  grep -o '<Upload>' <<<"$xml" | wc -l
}

# multipart_etag FILE PART_SIZE: the ETag S3 gives FILE uploaded in parts
# of PART_SIZE bytes: MD5 of the parts' binary MD5s, "-", part count.
multipart_etag() {
  python3 - "$1" "$2" <<'PY'
import hashlib, sys
size, md5s, n = int(sys.argv[2]), b"", 0
with open(sys.argv[1], "rb") as f:
    while True:
        b = f.read(size)
        if not b and n:
            break
        md5s += hashlib.md5(b).digest()
        n += 1
        if not b:
            break
print("%s-%d" % (hashlib.md5(md5s).hexdigest(), n))
PY
}
