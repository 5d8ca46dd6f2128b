/*
 * creds.c - the AWS SDKs' default credential chain.  See creds.h.
 *
 * Every source ends in the same place: a struct creds with keys, an
 * expiry (0 for static keys) and a description without secrets.  Temporary
 * credentials remember their kind so that creds_refresh() asks the same
 * source again.
 */
#include "creds.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <expat.h>

#include "errenv.h"
#include <jansson.h>

#define BODY_MAX (64 * 1024)	/* largest answer read from any source */
#define TOKEN_MAX (16 * 1024)	/* largest token file */
#define PROFILE_DEPTH 5		/* source_profile hops */


static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static void
fmt_time(time_t t, char *out, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, len, "?");
}

/* Zero a secret before freeing it. */
static void
free_secret(char *s)
{
	if (s != NULL) {
		volatile char *p = s;

		while (*p)
			*p++ = '\0';
		free(s);
	}
}

static void
keys_free(struct creds *c)
{
	free_secret(c->access_key);
	free_secret(c->secret_key);
	free_secret(c->session_token);
	c->access_key = c->secret_key = c->session_token = NULL;
}

/* Take copies of the keys; expiry from exp (NULL: none).  0 or -1. */
static int
keys_set(struct creds *c, const char *ak, const char *sk, const char *tok,
    const char *exp, const char *where, char *err, size_t errlen)
{
	time_t t = 0;

	if (ak == NULL || sk == NULL || *ak == '\0' || *sk == '\0') {
		errenv_set(err, errlen, "%s: answer without AccessKeyId and "
		    "SecretAccessKey", where);
		return -1;
	}
	if (exp != NULL && creds_parse_time(exp, &t) != 0) {
		errenv_set(err, errlen, "%s: bad Expiration '%.40s'", where, exp);
		return -1;
	}
	keys_free(c);
	c->access_key = strdup(ak);
	c->secret_key = strdup(sk);
	c->session_token = tok && *tok ? strdup(tok) : NULL;
	c->expires = t;
	if (c->access_key == NULL || c->secret_key == NULL ||
	    (tok && *tok && c->session_token == NULL)) {
		keys_free(c);
		errenv_set(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	return 0;
}

/* Append ", expires TIME" to c->desc when they expire. */
static void
desc_expiry(struct creds *c)
{
	char t[32];
	size_t n = strlen(c->desc);

	if (c->expires == 0)
		return;
	fmt_time(c->expires, t, sizeof t);
	snprintf(c->desc + n, sizeof c->desc - n, ", expires %s", t);
}

/* ---- files ---------------------------------------------------------------- */

static char *
home_file(const char *envname, const char *rel)
{
	const char *v = errenv_get(envname), *home;
	char *p;

	if (v != NULL)
		return strdup(v);
	if ((home = errenv_get("HOME")) == NULL)
		return NULL;
	if (asprintf(&p, "%s/%s", home, rel) < 0)
		return NULL;
	return p;
}

char *
creds_credentials_file(void)
{
	return home_file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
}

char *
creds_config_file(void)
{
	return home_file("AWS_CONFIG_FILE", ".aws/config");
}

/*
 * Look key up in section of the INI file path; *seen is set if the
 * section exists.  Indented lines are the settings nested under a
 * "parent =" line (the config file's "s3 =" block): with parent NULL
 * they are skipped, else only those under parent are looked at.
 * Returns a malloc'd value, or NULL.
 */
static char *
ini_get(const char *path, const char *section, const char *parent,
    const char *key, int *seen)
{
	FILE *f;
	char line[4096], *p, *eq, *val = NULL;
	int in = 0, under = 0;

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return NULL;
	while (val == NULL && fgets(line, sizeof line, f) != NULL) {
		int indented = line[0] == ' ' || line[0] == '\t';

		p = trim(line);
		if (*p == '#' || *p == ';' || *p == '\0')
			continue;
		if (*p == '[') {
			char *e = strchr(p, ']');

			if (e != NULL) {
				*e = '\0';
				in = strcmp(trim(p + 1), section) == 0;
				under = 0;
				if (in && seen != NULL)
					*seen = 1;
			}
			continue;
		}
		if (!in || (eq = strchr(p, '=')) == NULL)
			continue;
		*eq = '\0';
		if (!indented)
			under = parent != NULL && strcmp(trim(p), parent) == 0;
		if (indented != (parent != NULL) || (indented && !under))
			continue;
		if (strcmp(trim(p), key) == 0)
			val = strdup(trim(eq + 1));
	}
	fclose(f);
	return val;
}

/* key (nested under parent when not NULL) of profile; see creds.h. */
static char *
profile_get(const char *profile, const char *parent, const char *key, int *seen)
{
	char *cred = creds_credentials_file(), *cfg = creds_config_file();
	char *sect = NULL, *v;

	v = ini_get(cred, profile, parent, key, seen);
	if (v == NULL) {
		if (strcmp(profile, "default") == 0)
			v = ini_get(cfg, "default", parent, key, seen);
		if (v == NULL && asprintf(&sect, "profile %s", profile) >= 0)
			v = ini_get(cfg, sect, parent, key, seen);
	}
	if (v != NULL && *v == '\0') {
		free(v);
		v = NULL;
	}
	free(sect);
	free(cred);
	free(cfg);
	return v;
}

char *
creds_profile_get(const char *profile, const char *key, int *seen)
{
	return profile_get(profile, NULL, key, seen);
}

char *
creds_profile_get_nested(const char *profile, const char *parent, const char *key)
{
	return profile_get(profile, parent, key, NULL);
}

static int
profile_exists(const char *profile)
{
	int seen = 0;

	free(creds_profile_get(profile, "\n", &seen));
	return seen;
}

/* Read a token file whole (trimmed), at most TOKEN_MAX bytes. */
static char *
read_token(const char *path, const char *what, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf, *t;
	size_t n;

	if (f == NULL) {
		errenv_set(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(TOKEN_MAX + 1)) == NULL) {
		fclose(f);
		errenv_set(err, errlen, "%s", strerror(ENOMEM));
		return NULL;
	}
	n = fread(buf, 1, TOKEN_MAX + 1, f);
	fclose(f);
	if (n > TOKEN_MAX) {
		free_secret(buf);
		errenv_set(err, errlen, "%s %s: larger than %d bytes", what, path, TOKEN_MAX);
		return NULL;
	}
	buf[n] = '\0';
	t = trim(buf);
	memmove(buf, t, strlen(t) + 1);
	if (*buf == '\0' || strpbrk(buf, "\r\n") != NULL) {
		free_secret(buf);
		errenv_set(err, errlen, "%s %s: empty or not one line", what, path);
		return NULL;
	}
	return buf;
}

/* ---- HTTP ----------------------------------------------------------------- */

struct rbuf {
	char *p;
	size_t len;
	int over;
};

static size_t
rbuf_write(char *data, size_t size, size_t n, void *ud)
{
	struct rbuf *b = ud;
	size_t k = size * n;

	if (b->len + k > BODY_MAX) {
		b->over = 1;
		return 0;
	}
	memcpy(b->p + b->len, data, k);
	b->len += k;
	b->p[b->len] = '\0';
	return k;
}

struct req {
	const char *method;	/* GET, PUT, POST */
	const char *url;
	struct curl_slist *hdrs;
	const char *body;	/* POST body, or NULL */
	const char *sign_region;	/* SigV4 for STS with signer, or NULL */
	const struct creds *signer;
	long connect_ms, total_ms;
};

/*
 * One request.  0 with *status and b filled (the answer, NUL-terminated),
 * or -1 when no HTTP answer came (err says why, *unreachable set when
 * nothing listened or it timed out).
 */
static int
http_do(const struct req *r, struct rbuf *b, long *status, int *unreachable,
    char *err, size_t errlen)
{
	char ebuf[CURL_ERROR_SIZE] = "", provider[128];
	CURLcode rc = CURLE_OK;
	CURL *e;
	struct curl_slist *h = NULL, *n;

	*status = 0;
	if (unreachable != NULL)
		*unreachable = 0;
	b->len = 0;
	b->over = 0;
	if (b->p == NULL && (b->p = malloc(BODY_MAX + 1)) == NULL) {
		errenv_set(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	b->p[0] = '\0';
	if ((e = curl_easy_init()) == NULL) {
		errenv_set(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	for (n = r->hdrs; n != NULL; n = n->next)
		if ((h = curl_slist_append(h, n->data)) == NULL)
			break;
	if (r->signer != NULL && r->signer->session_token != NULL) {
		char *t;

		if (asprintf(&t, "X-Amz-Security-Token: %s",
		    r->signer->session_token) >= 0) {
			h = curl_slist_append(h, t);
			free_secret(t);
		} else
			h = NULL;
	}
#define SET(o, v) if (rc == CURLE_OK) rc = curl_easy_setopt(e, o, v)
	SET(CURLOPT_URL, r->url);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_USERAGENT, "moma-put/" MOMA_VERSION);
	SET(CURLOPT_CONNECTTIMEOUT_MS, r->connect_ms);
	SET(CURLOPT_TIMEOUT_MS, r->total_ms);
	SET(CURLOPT_WRITEFUNCTION, rbuf_write);
	SET(CURLOPT_WRITEDATA, b);
	SET(CURLOPT_ERRORBUFFER, ebuf);
	if (errenv_get("AWS_CA_BUNDLE") != NULL)
		SET(CURLOPT_CAINFO, errenv_get("AWS_CA_BUNDLE"));
	if (h != NULL)
		SET(CURLOPT_HTTPHEADER, h);
	if (strcmp(r->method, "PUT") == 0) {
		SET(CURLOPT_CUSTOMREQUEST, "PUT");
		SET(CURLOPT_POSTFIELDS, "");
	} else if (r->body != NULL)
		SET(CURLOPT_POSTFIELDS, r->body);
	if (r->sign_region != NULL && r->signer != NULL) {
		snprintf(provider, sizeof provider, "aws:amz:%s:sts", r->sign_region);
		SET(CURLOPT_AWS_SIGV4, provider);
		SET(CURLOPT_USERNAME, r->signer->access_key);
		SET(CURLOPT_PASSWORD, r->signer->secret_key);
	}
#undef SET
	if (rc == CURLE_OK)
		rc = curl_easy_perform(e);
	if (rc == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(e);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		if (unreachable != NULL)
			*unreachable = rc == CURLE_COULDNT_CONNECT ||
			    rc == CURLE_OPERATION_TIMEDOUT ||
			    rc == CURLE_COULDNT_RESOLVE_HOST;
		errenv_set(err, errlen, "%s", b->over ? "answer too large" :
		    *ebuf ? ebuf : curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

/* ---- STS ------------------------------------------------------------------ */

struct sts_ans {
	char akid[256], secret[256], token[8192], exp[64];
	char code[64], msg[256], arn[512];
	char *field;
	size_t cap, len;
};

static void XMLCALL
sts_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct sts_ans *a = ud;
	static const struct { const char *n; size_t off, cap; } f[] = {
#define F(n, m) { n, offsetof(struct sts_ans, m), sizeof ((struct sts_ans *)0)->m }
		F("AccessKeyId", akid), F("SecretAccessKey", secret),
		F("SessionToken", token), F("Expiration", exp),
		F("Code", code), F("Message", msg), F("Arn", arn),
#undef F
	};

	a->field = NULL;
	for (size_t i = 0; i < sizeof f / sizeof *f; i++)
		if (strcmp(name, f[i].n) == 0) {
			a->field = (char *)a + f[i].off;
			a->cap = f[i].cap;
			a->len = 0;
			a->field[0] = '\0';
		}
}

static void XMLCALL
sts_end(void *ud, const XML_Char *name)
{
	((struct sts_ans *)ud)->field = NULL;
}

static void XMLCALL
sts_text(void *ud, const XML_Char *s, int n)
{
	struct sts_ans *a = ud;
	size_t k;

	if (a->field == NULL || n <= 0)
		return;
	k = (size_t)n;
	if (k > a->cap - 1 - a->len)
		k = a->cap - 1 - a->len;
	memcpy(a->field + a->len, s, k);
	a->len += k;
	a->field[a->len] = '\0';
}

static int
sts_parse(const char *body, size_t len, struct sts_ans *a)
{
	XML_Parser p;
	int ok;

	memset(a, 0, sizeof *a);
	if (len == 0 || len > BODY_MAX || (p = XML_ParserCreate(NULL)) == NULL)
		return -1;
	XML_SetUserData(p, a);
	XML_SetElementHandler(p, sts_start, sts_end);
	XML_SetCharacterDataHandler(p, sts_text);
	ok = XML_Parse(p, body, (int)len, 1) == XML_STATUS_OK;
	XML_ParserFree(p);
	return ok ? 0 : -1;
}

/* sts_regional_endpoints of profile (may be NULL), else the environment. */
static char *
sts_regional(const char *profile)
{
	char *v = profile ? creds_profile_get(profile, "sts_regional_endpoints", NULL) : NULL;

	if (v == NULL && errenv_get("AWS_STS_REGIONAL_ENDPOINTS") != NULL)
		v = strdup(errenv_get("AWS_STS_REGIONAL_ENDPOINTS"));
	return v;
}

/*
 * Call STS action with the form params (already encoded, starting with
 * '&'), signed by signer (NULL: unsigned, for AssumeRoleWithWebIdentity).
 * Fills out's keys and expiry; *arn gets the assumed role's ARN.
 */
static int
sts_call(struct creds *out, const char *action, const char *params,
    const struct creds *signer, const char *region, const char *profile,
    char *err, size_t errlen)
{
	char url[1024], where[1200], *body = NULL, *regional = sts_regional(profile);
	const char *override = errenv_get("AWS_ENDPOINT_URL_STS"), *sign_region;
	struct rbuf b = { 0 };
	struct sts_ans *a = NULL;
	struct curl_slist *h = NULL;
	struct req r = { .method = "POST", .connect_ms = 5000, .total_ms = 30000 };
	long status;
	int rc = -1;

	if (override == NULL)
		override = errenv_get("AWS_ENDPOINT_URL");
	if (creds_sts_url(override, region, regional, url, sizeof url, &sign_region) != 0) {
		errenv_set(err, errlen, "STS endpoint: too long");
		goto out;
	}
	snprintf(where, sizeof where, "STS %s at %s", action, url);
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		errenv_set(err, errlen, "%s: not an http:// or https:// URL", where);
		goto out;
	}
	if (asprintf(&body, "Action=%s&Version=2011-06-15%s", action, params) < 0) {
		body = NULL;
		errenv_set(err, errlen, "%s", strerror(ENOMEM));
		goto out;
	}
	h = curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
	if (h == NULL || (a = malloc(sizeof *a)) == NULL) {
		errenv_set(err, errlen, "%s", strerror(ENOMEM));
		goto out;
	}
	r.url = url;
	r.hdrs = h;
	r.body = body;
	r.signer = signer;
	r.sign_region = signer ? sign_region : NULL;
	if (http_do(&r, &b, &status, NULL, err + 0, errlen) != 0) {
		char m[CURL_ERROR_SIZE + 64];

		snprintf(m, sizeof m, "%s", err);
		errenv_set(err, errlen, "%s: %s", where, m);
		goto out;
	}
	if (sts_parse(b.p, b.len, a) != 0) {
		errenv_set(err, errlen, "%s: HTTP %ld, answer not XML", where, status);
		goto out;
	}
	if (status != 200) {
		errenv_set(err, errlen, "%s: HTTP %ld %s%s%s", where, status,
		    a->code[0] ? a->code : "", a->msg[0] ? ": " : "", a->msg);
		goto out;
	}
	if (keys_set(out, a->akid, a->secret, a->token, a->exp[0] ? a->exp : NULL,
	    where, err, errlen) != 0)
		goto out;
	if (out->expires == 0) {
		keys_free(out);
		errenv_set(err, errlen, "%s: answer without Expiration", where);
		goto out;
	}
	rc = 0;
out:
	if (a != NULL)
		memset(a, 0, sizeof *a);
	free(a);
	if (b.p != NULL)
		memset(b.p, 0, b.len);
	free(b.p);
	free_secret(body);
	free(regional);
	curl_slist_free_all(h);
	return rc;
}

/* A session name: name if set, else moma-put-UNIXTIME. */
static void
session_name(const char *name, char *out, size_t len)
{
	if (name != NULL)
		snprintf(out, len, "%s", name);
	else
		snprintf(out, len, "moma-put-%lld", (long long)time(NULL));
}

/* "&K=V" pairs for role, session and the optional ones, encoded. */
static char *
role_params(const char *role, const char *session, const char *duration,
    const char *external_id, const char *token)
{
	const char *k[] = { "RoleArn", "RoleSessionName", "DurationSeconds",
	    "ExternalId", "WebIdentityToken" };
	const char *v[] = { role, session, duration, external_id, token };
	char *out = strdup(""), *next, *enc;

	for (size_t i = 0; out != NULL && i < sizeof k / sizeof *k; i++) {
		if (v[i] == NULL)
			continue;
		if ((enc = creds_form_encode(v[i])) == NULL ||
		    asprintf(&next, "%s&%s=%s", out, k[i], enc) < 0)
			next = NULL;
		free_secret(enc);
		free_secret(out);
		out = next;
	}
	return out;
}

static int
web_identity(struct creds *out, const char *token_file, const char *role,
    const char *session, const char *region, const char *profile,
    char *err, size_t errlen)
{
	char sess[128], *tok, *params;
	int rc;

	if ((tok = read_token(token_file, "web identity token file", err, errlen)) == NULL)
		return -1;
	session_name(session, sess, sizeof sess);
	params = role_params(role, sess, NULL, NULL, tok);
	free_secret(tok);
	if (params == NULL) {
		errenv_set(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	rc = sts_call(out, "AssumeRoleWithWebIdentity", params, NULL, region,
	    profile, err, errlen);
	free_secret(params);
	return rc;
}

/* ---- JSON answers: container, IMDS, credential_process --------------------- */

static const char *
jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/*
 * Keys from a JSON document: AccessKeyId, SecretAccessKey, token_key
 * (Token or SessionToken), Expiration (required when need_exp).
 */
static int
json_keys(struct creds *out, const char *body, size_t len, const char *token_key,
    int need_exp, const char *where, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o = json_loadb(body, len, 0, &je);
	int rc = -1;

	if (!json_is_object(o)) {
		errenv_set(err, errlen, "%s: answer not a JSON object", where);
		goto out;
	}
	if (json_object_get(o, "Version") != NULL &&
	    json_integer_value(json_object_get(o, "Version")) != 1) {
		errenv_set(err, errlen, "%s: Version is not 1", where);
		goto out;
	}
	if (jstr(o, "Code") != NULL && strcmp(jstr(o, "Code"), "Success") != 0) {
		errenv_set(err, errlen, "%s: Code %.64s", where, jstr(o, "Code"));
		goto out;
	}
	if (need_exp && jstr(o, "Expiration") == NULL) {
		errenv_set(err, errlen, "%s: answer without Expiration", where);
		goto out;
	}
	rc = keys_set(out, jstr(o, "AccessKeyId"), jstr(o, "SecretAccessKey"),
	    jstr(o, token_key), jstr(o, "Expiration"), where, err, errlen);
out:
	json_decref(o);
	return rc;
}

/*
 * GET url with headers; 0 with the body in b, or -1.  where names the
 * source in messages; *unreachable as in http_do().
 */
static int
http_get(const char *method, const char *url, struct curl_slist *h,
    long connect_ms, long total_ms, struct rbuf *b, int *unreachable,
    const char *where, char *err, size_t errlen)
{
	struct req r = { .method = method, .url = url, .hdrs = h,
	    .connect_ms = connect_ms, .total_ms = total_ms };
	char m[CURL_ERROR_SIZE + 64];
	long status;

	if (http_do(&r, b, &status, unreachable, m, sizeof m) != 0) {
		errenv_set(err, errlen, "%s: %s", where, m);
		return -1;
	}
	if (status != 200) {
		if (unreachable != NULL)
			*unreachable = status == 404;
		errenv_set(err, errlen, "%s: HTTP %ld", where, status);
		return -1;
	}
	return 0;
}

static int
container(struct creds *out, char *err, size_t errlen)
{
	char url[2048], where[2100], *tok = NULL, *hdr = NULL;
	const char *tf = errenv_get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	struct curl_slist *h = NULL;
	struct rbuf b = { 0 };
	int rc = -1;

	if (creds_container_url(errenv_get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
	    errenv_get("AWS_CONTAINER_CREDENTIALS_FULL_URI"), url, sizeof url,
	    err, errlen) != 0)
		return -1;
	snprintf(where, sizeof where, "container credentials at %s", url);
	if (tf != NULL) {
		if ((tok = read_token(tf, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		    err, errlen)) == NULL)
			return -1;
	} else if (errenv_get("AWS_CONTAINER_AUTHORIZATION_TOKEN") != NULL) {
		tok = strdup(errenv_get("AWS_CONTAINER_AUTHORIZATION_TOKEN"));
		if (tok != NULL && strpbrk(tok, "\r\n") != NULL) {
			free_secret(tok);
			errenv_set(err, errlen, "AWS_CONTAINER_AUTHORIZATION_TOKEN: "
			    "not one line");
			return -1;
		}
	}
	if (tok != NULL && (asprintf(&hdr, "Authorization: %s", tok) < 0 ||
	    (h = curl_slist_append(NULL, hdr)) == NULL)) {
		errenv_set(err, errlen, "%s", strerror(ENOMEM));
		goto out;
	}
	if (http_get("GET", url, h, 2000, 5000, &b, NULL, where, err, errlen) == 0 &&
	    json_keys(out, b.p, b.len, "Token", 0, where, err, errlen) == 0)
		rc = 0;
out:
	if (h != NULL) {
		memset(h->data, 0, strlen(h->data));
		curl_slist_free_all(h);
	}
	free_secret(hdr);
	free_secret(tok);
	if (b.p != NULL)
		memset(b.p, 0, b.len);
	free(b.p);
	return rc;
}

/* The instance metadata base URL, without trailing '/'. */
static void
imds_base(char *out, size_t len)
{
	const char *e = errenv_get("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = errenv_get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	size_t n;

	if (e == NULL)
		e = mode && strcasecmp(mode, "IPv6") == 0 ?
		    "http://[fd00:ec2::254]" : "http://169.254.169.254";
	snprintf(out, len, "%s", e);
	n = strlen(out);
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
}

int
creds_imds_disabled(void)
{
	const char *d = errenv_get("AWS_EC2_METADATA_DISABLED");

	return d != NULL && strcasecmp(d, "true") == 0;
}

/*
 * IMDSv2: PUT a session token, then the role name, then its credentials.
 * *absent is set when no metadata service answered (or it has no role):
 * the chain then reports "no credentials" rather than this error.
 */
static int
imds(struct creds *out, int *absent, char *err, size_t errlen)
{
	char base[1024], url[1400], where[1500], role[256], *hdr = NULL;
	const char *t = errenv_get("AWS_METADATA_SERVICE_TIMEOUT");
	long ms = 1000;
	struct curl_slist *h = NULL;
	struct rbuf b = { 0 };
	int rc = -1;

	*absent = 0;
	if (t != NULL) {
		char *end;
		long s = strtol(t, &end, 10);

		if (*end == '\0' && s >= 1 && s <= 60)
			ms = s * 1000;
	}
	imds_base(base, sizeof base);
	snprintf(url, sizeof url, "%s/latest/api/token", base);
	snprintf(where, sizeof where, "EC2 instance metadata at %s", base);
	h = curl_slist_append(NULL, "X-aws-ec2-metadata-token-ttl-seconds: 21600");
	if (h == NULL)
		goto nomem;
	if (http_get("PUT", url, h, ms, ms, &b, absent, where, err, errlen) != 0)
		goto out;
	curl_slist_free_all(h);
	h = NULL;
	if (b.len == 0 || strpbrk(b.p, "\r\n") != NULL) {
		errenv_set(err, errlen, "%s: bad session token", where);
		goto out;
	}
	if (asprintf(&hdr, "X-aws-ec2-metadata-token: %s", b.p) < 0) {
		hdr = NULL;
		goto nomem;
	}
	if ((h = curl_slist_append(NULL, hdr)) == NULL)
		goto nomem;
	snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/", base);
	if (http_get("GET", url, h, ms, ms, &b, absent, where, err, errlen) != 0) {
		if (*absent)
			errenv_set(err, errlen, "%s: no IAM role", where);
		goto out;
	}
	snprintf(role, sizeof role, "%.*s", (int)strcspn(b.p, "\r\n"), b.p);
	if (role[0] == '\0' || strpbrk(role, "/?#% ") != NULL) {
		*absent = role[0] == '\0';
		errenv_set(err, errlen, "%s: no IAM role", where);
		goto out;
	}
	snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/%s",
	    base, role);
	*absent = 0;
	if (http_get("GET", url, h, ms, 5 * ms, &b, NULL, where, err, errlen) != 0 ||
	    json_keys(out, b.p, b.len, "Token", 1, where, err, errlen) != 0)
		goto out;
	snprintf(out->desc, sizeof out->desc, "EC2 instance metadata (IMDSv2) at "
	    "%.160s, role %.100s", base, role);
	rc = 0;
	goto out;
nomem:
	errenv_set(err, errlen, "%s", strerror(ENOMEM));
out:
	if (h != NULL) {
		memset(h->data, 0, strlen(h->data));
		curl_slist_free_all(h);
	}
	free_secret(hdr);
	if (b.p != NULL)
		memset(b.p, 0, b.len);
	free(b.p);
	return rc;
}

/* ---- credential_process ------------------------------------------------------ */

static int
process(struct creds *out, const char *cmd, const char *profile, char *err,
    size_t errlen)
{
	char where[300], *buf;
	int fds[2], st, rc = -1;
	size_t len = 0;
	pid_t pid;

	snprintf(where, sizeof where, "profile [%s]: credential_process", profile);
	if ((buf = malloc(BODY_MAX + 1)) == NULL) {
		errenv_set(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	if (pipe2(fds, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		errenv_set(err, errlen, "%s: %s", where, strerror(errno));
		free(buf);
		return -1;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls: moma-put has threads.  The
		 * standard input is the object being uploaded: not for it. */
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0 && dup2(null, STDIN_FILENO) >= 0 &&
		    dup2(fds[1], STDOUT_FILENO) >= 0)
			execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		ssize_t n = read(fds[0], buf + len, BODY_MAX - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == BODY_MAX)
			break;
	}
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	buf[len] = '\0';
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		errenv_set(err, errlen, "%s: exit status %d", where,
		    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	else if (len == BODY_MAX)
		errenv_set(err, errlen, "%s: output larger than %d bytes", where, BODY_MAX);
	else {
		json_error_t je;
		json_t *o = json_loadb(buf, len, 0, &je);

		if (!json_is_object(o) || json_integer_value(json_object_get(o, "Version")) != 1)
			errenv_set(err, errlen, "%s: output is not JSON with \"Version\": 1", where);
		else
			rc = json_keys(out, buf, len, "SessionToken", 0, where, err, errlen);
		json_decref(o);
	}
	memset(buf, 0, len);
	free(buf);
	return rc;
}

/* ---- profiles --------------------------------------------------------------- */

static int from_profile(struct creds *out, const char *name, const char *region,
    int depth, int *found, char *err, size_t errlen);

/* Static keys of profile name; *found 0 when it has none. */
static int
profile_static(struct creds *out, const char *name, int *found, char *err,
    size_t errlen)
{
	char *ak = creds_profile_get(name, "aws_access_key_id", NULL);
	char *sk = creds_profile_get(name, "aws_secret_access_key", NULL);
	char *tok = creds_profile_get(name, "aws_session_token", NULL);
	int rc = 0;

	*found = ak != NULL || sk != NULL;
	if (*found) {
		char where[300];

		snprintf(where, sizeof where, "profile [%s]", name);
		if (ak == NULL || sk == NULL) {
			errenv_set(err, errlen, "%s: aws_access_key_id without "
			    "aws_secret_access_key, or the reverse", where);
			rc = -1;
		} else
			rc = keys_set(out, ak, sk, tok, NULL, where, err, errlen);
		snprintf(out->desc, sizeof out->desc, "profile [%s], static keys", name);
	}
	free_secret(ak);
	free_secret(sk);
	free_secret(tok);
	return rc;
}

/* The credentials a role profile assumes the role with. */
static int
role_source(struct creds *src, const char *name, const char *sprof,
    const char *csrc, const char *region, int depth, char *err, size_t errlen)
{
	int found = 0, absent;

	if (sprof != NULL && csrc != NULL) {
		errenv_set(err, errlen, "profile [%s]: both source_profile and "
		    "credential_source", name);
		return -1;
	}
	if (sprof != NULL) {
		if (depth + 1 >= PROFILE_DEPTH) {
			errenv_set(err, errlen, "profile [%s]: source_profile chain "
			    "longer than %d (a loop?)", name, PROFILE_DEPTH);
			return -1;
		}
		/* A profile that is its own source uses its static keys. */
		if (strcmp(sprof, name) == 0) {
			if (profile_static(src, name, &found, err, errlen) != 0)
				return -1;
		} else if (from_profile(src, sprof, region, depth + 1, &found,
		    err, errlen) != 0)
			return -1;
		if (!found) {
			errenv_set(err, errlen, "profile [%s]: source_profile [%s] "
			    "has no credentials", name, sprof);
			return -1;
		}
		return 0;
	}
	if (csrc == NULL) {
		errenv_set(err, errlen, "profile [%s]: role_arn without source_profile, "
		    "credential_source or web_identity_token_file", name);
		return -1;
	}
	if (strcmp(csrc, "Environment") == 0) {
		if (errenv_get("AWS_ACCESS_KEY_ID") == NULL || errenv_get("AWS_SECRET_ACCESS_KEY") == NULL) {
			errenv_set(err, errlen, "profile [%s]: credential_source "
			    "Environment: AWS_ACCESS_KEY_ID and "
			    "AWS_SECRET_ACCESS_KEY not set", name);
			return -1;
		}
		return keys_set(src, errenv_get("AWS_ACCESS_KEY_ID"),
		    errenv_get("AWS_SECRET_ACCESS_KEY"), errenv_get("AWS_SESSION_TOKEN"), NULL,
		    "environment", err, errlen);
	}
	if (strcmp(csrc, "EcsContainer") == 0)
		return container(src, err, errlen);
	if (strcmp(csrc, "Ec2InstanceMetadata") == 0) {
		if (creds_imds_disabled()) {
			errenv_set(err, errlen, "profile [%s]: credential_source "
			    "Ec2InstanceMetadata but AWS_EC2_METADATA_DISABLED", name);
			return -1;
		}
		return imds(src, &absent, err, errlen);
	}
	errenv_set(err, errlen, "profile [%s]: credential_source '%.40s': expected "
	    "Environment, Ec2InstanceMetadata or EcsContainer", name, csrc);
	return -1;
}

static int
profile_role(struct creds *out, const char *name, const char *role,
    const char *region, int depth, char *err, size_t errlen)
{
	char *sprof = creds_profile_get(name, "source_profile", NULL);
	char *csrc = creds_profile_get(name, "credential_source", NULL);
	char *wif = creds_profile_get(name, "web_identity_token_file", NULL);
	char *sess = creds_profile_get(name, "role_session_name", NULL);
	char *dur = creds_profile_get(name, "duration_seconds", NULL);
	char *ext = creds_profile_get(name, "external_id", NULL);
	char *mfa = creds_profile_get(name, "mfa_serial", NULL);
	char *preg = creds_profile_get(name, "region", NULL);
	char sn[128], *params = NULL;
	struct creds src = { 0 };
	int rc = -1;

	if (preg != NULL)
		region = preg;
	if (mfa != NULL) {
		errenv_set(err, errlen, "profile [%s]: mfa_serial needs a code typed "
		    "at a terminal; moma-put runs unattended", name);
		goto out;
	}
	if (wif != NULL && sprof == NULL && csrc == NULL) {
		if (web_identity(out, wif, role, sess, region, name, err, errlen) != 0)
			goto out;
		snprintf(out->desc, sizeof out->desc, "profile [%s], web identity "
		    "from %s, role %s", name, wif, role);
		rc = 0;
		goto out;
	}
	if (role_source(&src, name, sprof, csrc, region, depth, err, errlen) != 0)
		goto out;
	session_name(sess, sn, sizeof sn);
	if ((params = role_params(role, sn, dur, ext, NULL)) == NULL) {
		errenv_set(err, errlen, "%s", strerror(ENOMEM));
		goto out;
	}
	if (sts_call(out, "AssumeRole", params, &src, region, name, err, errlen) != 0)
		goto out;
	snprintf(out->desc, sizeof out->desc, "profile [%s], role %s via STS "
	    "AssumeRole with %s%s%s", name, role, sprof ? "source_profile " :
	    "credential_source ", sprof ? sprof : csrc, "");
	rc = 0;
out:
	keys_free(&src);
	free_secret(params);
	free(sprof);
	free(csrc);
	free(wif);
	free(sess);
	free(dur);
	free(ext);
	free(mfa);
	free(preg);
	return rc;
}

/*
 * Credentials of profile name, in the SDKs' order: role_arn (AssumeRole,
 * or AssumeRoleWithWebIdentity with web_identity_token_file), static
 * keys, credential_process.  *found 0 when the profile has none of them.
 */
static int
from_profile(struct creds *out, const char *name, const char *region,
    int depth, int *found, char *err, size_t errlen)
{
	char *role = creds_profile_get(name, "role_arn", NULL), *cmd = NULL;
	int rc;

	*found = 1;
	if (role != NULL) {
		rc = profile_role(out, name, role, region, depth, err, errlen);
		free(role);
		return rc;
	}
	if (profile_static(out, name, found, err, errlen) != 0)
		return -1;
	if (*found)
		return 0;
	if ((cmd = creds_profile_get(name, "credential_process", NULL)) != NULL) {
		*found = 1;
		rc = process(out, cmd, name, err, errlen);
		if (rc == 0)
			snprintf(out->desc, sizeof out->desc, "profile [%s], "
			    "credential_process", name);
		free(cmd);
		return rc;
	}
	return 0;
}

/* ---- the chain ----------------------------------------------------------------- */

/*
 * Get credentials from source kind into a fresh struct, then move them
 * into cr.  *absent (IMDS only): no metadata service there.
 */
static int
run_source(struct creds *cr, enum creds_kind kind, int *absent, char *err,
    size_t errlen)
{
	struct creds t = { 0 };
	int found = 1, rc = -1;

	*absent = 0;
	switch (kind) {
	case CREDS_ENV:
		rc = keys_set(&t, errenv_get("AWS_ACCESS_KEY_ID"), errenv_get("AWS_SECRET_ACCESS_KEY"),
		    errenv_get("AWS_SESSION_TOKEN"), NULL, "environment", err, errlen);
		snprintf(t.desc, sizeof t.desc, "environment (AWS_ACCESS_KEY_ID%s)",
		    errenv_get("AWS_SESSION_TOKEN") ? ", AWS_SESSION_TOKEN" : "");
		break;
	case CREDS_WEB_IDENTITY:
		rc = web_identity(&t, errenv_get("AWS_WEB_IDENTITY_TOKEN_FILE"),
		    errenv_get("AWS_ROLE_ARN"), errenv_get("AWS_ROLE_SESSION_NAME"), cr->region,
		    NULL, err, errlen);
		snprintf(t.desc, sizeof t.desc, "web identity from %s, role %s",
		    errenv_get("AWS_WEB_IDENTITY_TOKEN_FILE"), errenv_get("AWS_ROLE_ARN"));
		break;
	case CREDS_PROFILE:
		rc = from_profile(&t, cr->profile, cr->region, 0, &found, err, errlen);
		if (rc == 0 && !found) {
			*absent = 1;
			rc = -1;
		}
		break;
	case CREDS_CONTAINER:
		rc = container(&t, err, errlen);
		if (rc == 0) {
			char url[2048], e2[8];

			creds_container_url(errenv_get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
			    errenv_get("AWS_CONTAINER_CREDENTIALS_FULL_URI"), url,
			    sizeof url, e2, sizeof e2);
			snprintf(t.desc, sizeof t.desc, "container credentials at %.200s%s",
			    url, errenv_get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") ?
			    " (token file)" : errenv_get("AWS_CONTAINER_AUTHORIZATION_TOKEN") ?
			    " (token)" : "");
		}
		break;
	case CREDS_IMDS:
		rc = imds(&t, absent, err, errlen);
		break;
	case CREDS_NONE:
		break;
	}
	if (rc != 0) {
		keys_free(&t);
		return -1;
	}
	keys_free(cr);
	cr->access_key = t.access_key;
	cr->secret_key = t.secret_key;
	cr->session_token = t.session_token;
	cr->expires = t.expires;
	cr->kind = kind;
	memcpy(cr->desc, t.desc, sizeof cr->desc);
	desc_expiry(cr);
	return 0;
}

int
creds_load(struct creds *cr, const char *profile, const char *region,
    char *err, size_t errlen)
{
	const char *ak = errenv_get("AWS_ACCESS_KEY_ID"), *sk = errenv_get("AWS_SECRET_ACCESS_KEY");
	char *cred = creds_credentials_file(), *cfg = creds_config_file();
	char imdsurl[1024], m[1024];
	int explicit = profile != NULL, absent = 0, rc = -1;

	memset(cr, 0, sizeof *cr);
	if (profile == NULL && (profile = errenv_get("AWS_PROFILE")) != NULL)
		explicit = 2;
	if (profile == NULL)
		profile = "default";
	if ((cr->region = strdup(region)) == NULL ||
	    (cr->profile = strdup(profile)) == NULL) {
		errenv_set(err, errlen, "%s", strerror(ENOMEM));
		goto out;
	}
	/* 1. The environment's keys (unless --profile names a profile). */
	if (explicit != 1 && (ak != NULL || sk != NULL)) {
		if (ak == NULL || sk == NULL) {
			errenv_set(err, errlen, "credentials: %s is set but %s is not",
			    ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
			    ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
			goto out;
		}
		rc = run_source(cr, CREDS_ENV, &absent, err, errlen);
		goto out;
	}
	/* 2. Web identity from the environment. */
	if (errenv_get("AWS_WEB_IDENTITY_TOKEN_FILE") != NULL && errenv_get("AWS_ROLE_ARN") != NULL) {
		rc = run_source(cr, CREDS_WEB_IDENTITY, &absent, err, errlen);
		goto out;
	}
	/* 3. The profile. */
	if (profile_exists(profile)) {
		rc = run_source(cr, CREDS_PROFILE, &absent, err, errlen);
		if (rc == 0 || !absent)
			goto out;
	} else if (explicit) {
		errenv_set(err, errlen, "credentials: profile [%s] not found in %s "
		    "or %s", profile, cred ? cred : "~/.aws/credentials",
		    cfg ? cfg : "~/.aws/config");
		goto out;
	}
	/* 4. Container credentials. */
	if (errenv_get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") != NULL ||
	    errenv_get("AWS_CONTAINER_CREDENTIALS_FULL_URI") != NULL) {
		rc = run_source(cr, CREDS_CONTAINER, &absent, err, errlen);
		goto out;
	}
	/* 5. EC2 instance metadata. */
	imds_base(imdsurl, sizeof imdsurl);
	m[0] = '\0';
	if (!creds_imds_disabled()) {
		rc = run_source(cr, CREDS_IMDS, &absent, m, sizeof m);
		if (rc == 0 || !absent) {
			if (rc != 0)
				errenv_set(err, errlen, "credentials: %s", m);
			goto out;
		}
	}
	errenv_set(err, errlen, "no credentials: looked in AWS_ACCESS_KEY_ID and "
	    "AWS_SECRET_ACCESS_KEY%s, AWS_WEB_IDENTITY_TOKEN_FILE with "
	    "AWS_ROLE_ARN, profile [%s] in %s and %s, "
	    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI, %s%s%s",
	    explicit == 1 ? " (skipped: --profile)" : "", profile,
	    cred ? cred : "~/.aws/credentials", cfg ? cfg : "~/.aws/config",
	    creds_imds_disabled() ? "EC2 instance metadata (disabled by "
	    "AWS_EC2_METADATA_DISABLED)" : "EC2 instance metadata at ",
	    creds_imds_disabled() ? "" : imdsurl,
	    *m ? (strstr(m, "no IAM role") ? " (no IAM role)" : " (no answer)") : "");
	rc = -1;
out:
	free(cred);
	free(cfg);
	if (rc != 0)
		creds_free(cr);
	return rc;
}

int
creds_refresh(struct creds *cr, char *err, size_t errlen)
{
	time_t now = time(NULL);
	int absent;

	if (cr->expires == 0 || now + CREDS_REFRESH_AHEAD < cr->expires)
		return 0;
	if (now < cr->next_try && now < cr->expires)
		return 0;
	if (run_source(cr, cr->kind, &absent, err, errlen) != 0) {
		cr->next_try = now + 10;
		return -1;
	}
	cr->next_try = 0;
	cr->refreshes++;
	return 1;
}

void
creds_free(struct creds *cr)
{
	keys_free(cr);
	free(cr->profile);
	free(cr->region);
	memset(cr, 0, sizeof *cr);
}
