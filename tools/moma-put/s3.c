/*
 * s3.c - configuration, addressing and signing setup for moma-put.
 * See s3.h.
 */
#include "s3.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "awsconf.h"
#include "errenv.h"

/* The profile's s3 addressing_style, and MOMA_PUT_RESOLVE. */
static int
addressing(struct s3_conf *c, const char *prof, char *err, size_t errlen)
{
	char *st = awsconf_get_nested(prof, "s3", "addressing_style");
	const char *r = errenv_get("MOMA_PUT_RESOLVE");
	int rc = 0;

	if (st != NULL && strcmp(st, "virtual") == 0)
		c->virtual_hosted = 1;
	else if (st != NULL && strcmp(st, "path") == 0)
		c->path_style = 1;
	else if (st != NULL && strcmp(st, "auto") != 0) {
		errenv_set(err, errlen, "profile [%s]: s3 addressing_style '%.32s': "
		    "expected auto, virtual or path", prof, st);
		rc = -1;
	}
	free(st);
	while (rc == 0 && r != NULL && *r) {
		size_t n = strcspn(r, ",");
		char *one = strndup(r, n);
		struct curl_slist *l = one ? curl_slist_append(c->resolve, one) : NULL;

		free(one);
		if (l == NULL) {
			errenv_set(err, errlen, "%s", strerror(ENOMEM));
			rc = -1;
		} else
			c->resolve = l;
		r += n + (r[n] == ',');
	}
	return rc;
}

int
s3_conf_load(struct s3_conf *c, const char *profile, const char *region,
    const char *endpoint, char *err, size_t errlen)
{
	const char *prof = profile;

	memset(c, 0, sizeof *c);
	c->connect_timeout = 10;
	c->stall_timeout = 30;
	if (prof == NULL)
		prof = errenv_get("AWS_PROFILE");
	if (prof == NULL)
		prof = "default";

	/* The region first: STS is regional. */
	if (region == NULL)
		region = errenv_get("AWS_REGION");
	if (region == NULL)
		region = errenv_get("AWS_DEFAULT_REGION");
	if (region != NULL)
		c->region = strdup(region);
	else if ((c->region = awsconf_get(prof, "region", NULL)) == NULL)
		c->region = strdup("us-east-1");
	if (c->region == NULL)
		goto nomem;
	if (strpbrk(c->region, ":/ \t") != NULL || *c->region == '\0') {
		errenv_set(err, errlen, "bad region '%s'", c->region);
		goto fail;
	}

	if (endpoint == NULL)
		endpoint = errenv_get("AWS_ENDPOINT_URL_S3");
	if (endpoint == NULL)
		endpoint = errenv_get("AWS_ENDPOINT_URL");
	if (endpoint != NULL) {
		size_t n;

		if (strncmp(endpoint, "http://", 7) != 0 &&
		    strncmp(endpoint, "https://", 8) != 0) {
			errenv_set(err, errlen, "endpoint '%s': not an http:// or "
			    "https:// URL", endpoint);
			goto fail;
		}
		if ((c->endpoint = strdup(endpoint)) == NULL)
			goto nomem;
		n = strlen(c->endpoint);
		while (n > 0 && c->endpoint[n - 1] == '/')
			c->endpoint[--n] = '\0';
	}
	if (errenv_get("AWS_CA_BUNDLE") && (c->ca_bundle = strdup(errenv_get("AWS_CA_BUNDLE"))) == NULL)
		goto nomem;
	if (addressing(c, prof, err, errlen) != 0)
		goto fail;
	if (creds_load(&c->creds, profile, c->region, err, errlen) != 0)
		goto fail;
	return 0;
nomem:
	errenv_set(err, errlen, "%s", strerror(ENOMEM));
fail:
	s3_conf_free(c);
	return -1;
}

void
s3_conf_free(struct s3_conf *c)
{
	creds_free(&c->creds);
	curl_slist_free_all(c->resolve);
	free(c->region);
	free(c->endpoint);
	free(c->ca_bundle);
	memset(c, 0, sizeof *c);
}

int
s3_conf_refresh(struct s3_conf *c, char *err, size_t errlen)
{
	return creds_refresh(&c->creds, err, errlen);
}

int
s3_conf_object(struct s3_conf *c, const char *sse, const char *kms_key_id,
    const char *storage_class, int path_style, char *err, size_t errlen)
{
	if (sse != NULL && strcmp(sse, "AES256") != 0 &&
	    strcmp(sse, "aws:kms") != 0 && strcmp(sse, "aws:kms:dsse") != 0) {
		errenv_set(err, errlen, "--sse '%s': expected AES256, aws:kms or "
		    "aws:kms:dsse", sse);
		return -1;
	}
	if (kms_key_id != NULL && (sse == NULL || strncmp(sse, "aws:kms", 7) != 0)) {
		errenv_set(err, errlen, "--sse-kms-key-id needs --sse aws:kms");
		return -1;
	}
	if (kms_key_id != NULL && (*kms_key_id == '\0' ||
	    strpbrk(kms_key_id, "\r\n") != NULL)) {
		errenv_set(err, errlen, "--sse-kms-key-id: empty or not one line");
		return -1;
	}
	/* Before 8.10.0 libcurl sorts the signed headers by whole line, so
	 * x-amz-server-side-encryption-aws-kms-key-id goes before
	 * x-amz-server-side-encryption and S3 finds the signature wrong
	 * (curl pull request 14370).  Say so instead of sending it. */
	if (kms_key_id != NULL && curl_version_info(CURLVERSION_NOW)->version_num < 0x080a00) {
		errenv_set(err, errlen, "--sse-kms-key-id: libcurl %s signs it wrongly "
		    "(fixed in libcurl 8.10.0); use --sse aws:kms with the "
		    "bucket's default KMS key instead",
		    curl_version_info(CURLVERSION_NOW)->version);
		return -1;
	}
	if (storage_class != NULL) {
		const char *p = storage_class;

		for (; *p; p++)
			if (!isupper((unsigned char)*p) && !isdigit((unsigned char)*p) &&
			    *p != '_')
				break;
		if (*p != '\0' || p == storage_class || p - storage_class > 64) {
			errenv_set(err, errlen, "--storage-class '%s': expected a class "
			    "such as STANDARD_IA (A-Z, 0-9, _)", storage_class);
			return -1;
		}
	}
	c->sse = sse;
	c->sse_kms_key_id = kms_key_id;
	c->storage_class = storage_class;
	c->path_style |= path_style;
	return 0;
}

struct curl_slist *
s3_object_headers(struct curl_slist *list, const struct s3_conf *c)
{
	if (list != NULL && c->sse != NULL)
		list = s3_header(list, "x-amz-server-side-encryption", c->sse);
	if (list != NULL && c->sse_kms_key_id != NULL)
		list = s3_header(list, "x-amz-server-side-encryption-aws-kms-key-id",
		    c->sse_kms_key_id);
	if (list != NULL && c->storage_class != NULL)
		list = s3_header(list, "x-amz-storage-class", c->storage_class);
	return list;
}

char *
s3_uri_encode(const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out, *o;

	if (n > (SIZE_MAX - 1) / 3 || (out = malloc(3 * n + 1)) == NULL)
		return NULL;
	for (o = out; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' ||
		    ch == '~' || (keep_slash && ch == '/'))
			*o++ = (char)ch;
		else {
			*o++ = '%';
			*o++ = hex[ch >> 4];
			*o++ = hex[ch & 15];
		}
	}
	*o = '\0';
	return out;
}

/* S3 bucket names: 3 to 63 of [a-z0-9.-], starting and ending with a
 * letter or digit.  Checked here so a typo fails before any request. */
static int
bucket_ok(const char *b)
{
	size_t n = strlen(b), i;

	if (n < 3 || n > 63 || !isalnum((unsigned char)b[0]) ||
	    !isalnum((unsigned char)b[n - 1]))
		return 0;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)b[i]) || isdigit((unsigned char)b[i]) ||
		    b[i] == '.' || b[i] == '-'))
			return 0;
	return 1;
}

/*
 * A key S3 stores as given and every client reads back the same (or,
 * with prefix, a possibly empty prefix): at most 1024 bytes of valid
 * UTF-8, no control character, no "." or ".." path segment (libcurl and
 * many servers squash those, so the object would land elsewhere).  0, or
 * -1 with the reason in err.
 */
static int
key_check(const char *key, int prefix, char *err, size_t errlen)
{
	size_t n = strlen(key);
	const unsigned char *s = (const unsigned char *)key;

	if (n == 0 && !prefix) {
		errenv_set(err, errlen, "empty object key");
		return -1;
	}
	if (n > 1024) {
		errenv_set(err, errlen, "key of %zu bytes: S3 allows 1024", n);
		return -1;
	}
	for (size_t i = 0; i < n; ) {
		unsigned c = s[i], len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 :
		    (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1f :
		    len == 3 ? c & 0x0f : c & 0x07;

		if (c < 0x20 || c == 0x7f) {
			errenv_set(err, errlen, "key has a control character "
			    "(byte %zu)", i);
			return -1;
		}
		if (len == 0 || i + len > n)
			goto utf8;
		for (unsigned k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto utf8;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			goto utf8;
		i += len;
		continue;
utf8:
		errenv_set(err, errlen, "key is not valid UTF-8 (byte %zu)", i);
		return -1;
	}
	for (const char *seg = key; ; ) {
		const char *end = strchr(seg, '/');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);

		if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' &&
		    seg[1] == '.')) {
			errenv_set(err, errlen, "key has a '%.*s' path segment",
			    (int)len, seg);
			return -1;
		}
		if (end == NULL)
			break;
		seg = end + 1;
	}
	return 0;
}

/* The bucket's base URL (no trailing '/'): virtual-hosted on AWS,
 * path-style under a custom endpoint unless c->virtual_hosted (then
 * scheme://bucket.HOST), path-style whenever the bucket name holds a dot
 * or c->path_style is set. */
static int
bucket_url(const struct s3_conf *c, const char *bucket, char **out)
{
	int dotted = strchr(bucket, '.') != NULL;

	if (c->endpoint != NULL && c->virtual_hosted && !c->path_style && !dotted) {
		size_t sch = (size_t)(strstr(c->endpoint, "://") - c->endpoint) + 3;

		return asprintf(out, "%.*s%s.%s", (int)sch, c->endpoint, bucket,
		    c->endpoint + sch);
	}
	if (c->endpoint != NULL)
		return asprintf(out, "%s/%s", c->endpoint, bucket);
	if (dotted || c->path_style)
		return asprintf(out, "https://s3.%s.amazonaws.com/%s", c->region,
		    bucket);
	return asprintf(out, "https://%s.s3.%s.amazonaws.com", bucket, c->region);
}

static int
target_parse(const char *uri, const struct s3_conf *c, struct s3_target *t,
    int prefix, char *err, size_t errlen)
{
	const char *p, *slash;
	char *ekey = NULL, *base = NULL, kerr[128];
	int n = -1;

	memset(t, 0, sizeof *t);
	if (strncmp(uri, "s3://", 5) != 0) {
		errenv_set(err, errlen, "'%s': not an s3://bucket/%s URL", uri,
		    prefix ? "prefix" : "key");
		return -1;
	}
	p = uri + 5;
	if ((slash = strchr(p, '/')) == NULL && !prefix) {
		errenv_set(err, errlen, "'%s': no object key after the bucket", uri);
		return -1;
	}
	if (slash == NULL)
		slash = p + strlen(p);
	t->bucket = strndup(p, (size_t)(slash - p));
	t->key = strdup(*slash ? slash + 1 : "");
	if (t->bucket == NULL || t->key == NULL)
		goto nomem;
	if (!bucket_ok(t->bucket)) {
		errenv_set(err, errlen, "'%s': invalid bucket name '%s'", uri, t->bucket);
		goto fail;
	}
	if (key_check(t->key, prefix, kerr, sizeof kerr) != 0) {
		errenv_set(err, errlen, "'%s': %s", uri, kerr);
		goto fail;
	}
	if ((ekey = s3_uri_encode(t->key, 1)) == NULL ||
	    bucket_url(c, t->bucket, &base) < 0) {
		base = NULL;
		goto nomem;
	}
	n = prefix ? asprintf(&t->url, "%s/", base) :
	    asprintf(&t->url, "%s/%s", base, ekey);
	if (n < 0) {
		t->url = NULL;
		goto nomem;
	}
	if (asprintf(&t->name, "s3://%s/%s", t->bucket, t->key) < 0) {
		t->name = NULL;
		goto nomem;
	}
	free(ekey);
	free(base);
	return 0;
nomem:
	errenv_set(err, errlen, "%s", strerror(ENOMEM));
fail:
	free(ekey);
	free(base);
	s3_target_free(t);
	return -1;
}

int
s3_target_parse(const char *uri, const struct s3_conf *c,
    struct s3_target *t, char *err, size_t errlen)
{
	return target_parse(uri, c, t, 0, err, errlen);
}

int
s3_bucket_parse(const char *uri, const struct s3_conf *c,
    struct s3_target *t, char *err, size_t errlen)
{
	return target_parse(uri, c, t, 1, err, errlen);
}

void
s3_target_free(struct s3_target *t)
{
	free(t->bucket);
	free(t->key);
	free(t->url);
	free(t->name);
	memset(t, 0, sizeof *t);
}

int
s3_easy_setup(CURL *e, const struct s3_conf *c)
{
	char provider[128];
	CURLcode rc = CURLE_OK;

	if ((size_t)snprintf(provider, sizeof provider, "aws:amz:%s:s3",
	    c->region) >= sizeof provider)
		return -1;
#define SET(opt, val) if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val)
	SET(CURLOPT_AWS_SIGV4, provider);
	SET(CURLOPT_USERNAME, c->creds.access_key);
	SET(CURLOPT_PASSWORD, c->creds.secret_key);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_USERAGENT, "moma-put/" MOMA_VERSION);
	SET(CURLOPT_CONNECTTIMEOUT, c->connect_timeout);
	SET(CURLOPT_LOW_SPEED_LIMIT, 1024L);
	SET(CURLOPT_LOW_SPEED_TIME, c->stall_timeout);
	SET(CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
	SET(CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	/* The key is sent as written: "a/../b" must not become "b". */
	SET(CURLOPT_PATH_AS_IS, 1L);
	if (c->ca_bundle != NULL)
		SET(CURLOPT_CAINFO, c->ca_bundle);
	if (c->resolve != NULL)
		SET(CURLOPT_RESOLVE, c->resolve);
#undef SET
	return rc == CURLE_OK ? 0 : -1;
}

struct curl_slist *
s3_header(struct curl_slist *list, const char *name, const char *value)
{
	struct curl_slist *n;
	char *h;

	if (asprintf(&h, "%s: %s", name, value) < 0) {
		curl_slist_free_all(list);
		return NULL;
	}
	n = curl_slist_append(list, h);
	free(h);
	if (n == NULL)
		curl_slist_free_all(list);
	return n;
}

struct curl_slist *
s3_base_headers(struct curl_slist *list, const struct s3_conf *c,
    const char *payload_hash)
{
	list = s3_header(list, "x-amz-content-sha256", payload_hash);
	if (list != NULL && c->creds.session_token != NULL)
		list = s3_header(list, "x-amz-security-token", c->creds.session_token);
	return list;
}

int
s3_easy_creds(CURL *e, struct curl_slist **hdrs, const struct s3_conf *c)
{
	static const char tok[] = "x-amz-security-token:";
	struct curl_slist *n, *list = NULL;

	for (n = *hdrs; n != NULL; n = n->next) {
		if (strncasecmp(n->data, tok, sizeof tok - 1) == 0)
			continue;
		if ((list = curl_slist_append(list, n->data)) == NULL)
			return -1;
	}
	if (c->creds.session_token != NULL &&
	    (list = s3_header(list, "x-amz-security-token",
	    c->creds.session_token)) == NULL)
		return -1;
	if (list == NULL ||
	    curl_easy_setopt(e, CURLOPT_USERNAME, c->creds.access_key) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PASSWORD, c->creds.secret_key) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, list) != CURLE_OK) {
		curl_slist_free_all(list);
		return -1;
	}
	curl_slist_free_all(*hdrs);
	*hdrs = list;
	return 0;
}

struct curl_slist *
s3_meta_headers(struct curl_slist *h, const char *const *meta, int nmeta)
{
	for (int i = 0; i < nmeta && h != NULL; i++) {
		const char *m = meta[i], *eq = strchr(m, '=');
		char name[160];

		snprintf(name, sizeof name, "x-amz-meta-%.*s%s", (int)(eq - m), m,
		    eq[1] ? "" : ";");
		if (eq[1])
			h = s3_header(h, name, eq + 1);
		else {
			/* curl's form of a header without a value: "name;". */
			struct curl_slist *n = curl_slist_append(h, name);

			if (n == NULL)
				curl_slist_free_all(h);
			h = n;
		}
	}
	return h;
}

int
s3_sha256_hex(const void *buf, size_t n, char out[65])
{
	unsigned char d[32];
	unsigned int len = 32;

	if (!EVP_Digest(buf, n, d, &len, EVP_sha256(), NULL))
		return -1;
	s3_hex(d, 32, out);
	return 0;
}

void
s3_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}
