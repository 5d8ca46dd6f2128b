/*
 * credsrc.c - the credential sources that answer over HTTP or from a
 * child process, each to a struct creds: STS (AssumeRoleWithWebIdentity,
 * AssumeRole signed with SigV4 by libcurl), container credentials, EC2
 * instance metadata (IMDSv2) and credential_process, their XML and JSON
 * answers parsed.  See creds.h.
 */
#include "creds.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <expat.h>
#include <jansson.h>

#include "../awsconf.h"
#include "../errenv.h"
#include "../xml.h"

#define BODY_MAX (64 * 1024)	/* largest answer read from any source */

/* ---- token files ---------------------------------------------------------- */

#define TOKEN_MAX (16 * 1024)	/* largest token file */

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
		creds_free_secret(buf);
		errenv_set(err, errlen, "%s %s: larger than %d bytes", what, path, TOKEN_MAX);
		return NULL;
	}
	/* Trimmed: whitespace off both ends. */
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	for (t = buf; isspace((unsigned char)*t); t++)
		;
	memmove(buf, t, strlen(t) + 1);
	if (*buf == '\0' || strpbrk(buf, "\r\n") != NULL) {
		creds_free_secret(buf);
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

/* rbuf_wipe: a reply that held credentials, and the request headers that
 * held a token, zeroed and freed (either may be empty or NULL). */
static void
rbuf_wipe(struct rbuf *b, struct curl_slist *h)
{
	if (b->p != NULL)
		memset(b->p, 0, b->len);
	free(b->p);
	b->p = NULL;
	for (struct curl_slist *l = h; l != NULL; l = l->next)
		memset(l->data, 0, strlen(l->data));
	curl_slist_free_all(h);
}

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
			creds_free_secret(t);
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
	struct xml_field f;	/* first: xml_run's context */
	char akid[256], secret[256], token[8192], exp[64];
	char code[64], msg[256], arn[512];
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

	a->f.field = NULL;
	for (size_t i = 0; i < sizeof f / sizeof *f; i++)
		if (strcmp(name, f[i].n) == 0)
			xml_field_at(&a->f, (char *)a + f[i].off, f[i].cap);
}

static void XMLCALL
sts_end(void *ud, const XML_Char *name)
{
	((struct sts_ans *)ud)->f.field = NULL;
}

static int
sts_parse(const char *body, size_t len, struct sts_ans *a)
{
	memset(a, 0, sizeof *a);
	if (len > BODY_MAX)
		return -1;
	return xml_run(body, len, a, sts_start, sts_end);
}

/* sts_regional_endpoints of profile (may be NULL), else the environment. */
static char *
sts_regional(const char *profile)
{
	char *v = profile ? awsconf_get(profile, "sts_regional_endpoints", NULL) : NULL;

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
	if (creds_keys_set(out, a->akid, a->secret, a->token, a->exp[0] ? a->exp : NULL,
	    where, err, errlen) != 0)
		goto out;
	if (out->expires == 0) {
		creds_keys_free(out);
		errenv_set(err, errlen, "%s: answer without Expiration", where);
		goto out;
	}
	rc = 0;
out:
	if (a != NULL)
		memset(a, 0, sizeof *a);
	free(a);
	rbuf_wipe(&b, h);
	creds_free_secret(body);
	free(regional);
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
		creds_free_secret(enc);
		creds_free_secret(out);
		out = next;
	}
	return out;
}

int
creds_web_identity(struct creds *out, const char *token_file, const char *role,
    const char *session, const char *region, const char *profile,
    char *err, size_t errlen)
{
	char sess[128], *tok, *params;
	int rc;

	if ((tok = read_token(token_file, "web identity token file", err, errlen)) == NULL)
		return -1;
	session_name(session, sess, sizeof sess);
	params = role_params(role, sess, NULL, NULL, tok);
	creds_free_secret(tok);
	if (params == NULL) {
		errenv_set(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	rc = sts_call(out, "AssumeRoleWithWebIdentity", params, NULL, region,
	    profile, err, errlen);
	creds_free_secret(params);
	return rc;
}

/* STS AssumeRole of role, signed with signer's keys (see creds.h). */
int
creds_assume_role(struct creds *out, const char *role, const char *session,
    const char *duration, const char *external_id, const struct creds *signer,
    const char *region, const char *profile, char *err, size_t errlen)
{
	char sn[128], *params;
	int rc;

	session_name(session, sn, sizeof sn);
	if ((params = role_params(role, sn, duration, external_id, NULL)) == NULL) {
		errenv_set(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	rc = sts_call(out, "AssumeRole", params, signer, region, profile, err, errlen);
	creds_free_secret(params);
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
	rc = creds_keys_set(out, jstr(o, "AccessKeyId"), jstr(o, "SecretAccessKey"),
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

int
creds_container(struct creds *out, char *err, size_t errlen)
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
			creds_free_secret(tok);
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
	rbuf_wipe(&b, h);
	creds_free_secret(hdr);
	creds_free_secret(tok);
	return rc;
}

/* The instance metadata base URL, without trailing '/'. */
void
creds_imds_base(char *out, size_t len)
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
int
creds_imds(struct creds *out, int *absent, char *err, size_t errlen)
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
	creds_imds_base(base, sizeof base);
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
	rbuf_wipe(&b, h);
	creds_free_secret(hdr);
	return rc;
}

/* ---- credential_process ------------------------------------------------------ */

int
creds_process(struct creds *out, const char *cmd, const char *profile, char *err,
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
