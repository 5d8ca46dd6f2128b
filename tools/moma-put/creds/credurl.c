/*
 * credurl.c - the pure parts of the credential chain: URLs, times and
 * form encoding.  No I/O and no library beyond libc, so that
 * tests/unit/test_credurl.c can include this file and check them without
 * contacting anything (the ECS agent's 169.254.170.2 above all).
 * See creds.h.
 */
#include "creds.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
cu_err(char *err, size_t errlen, const char *what, const char *url)
{
	if (errlen > 0)
		snprintf(err, errlen, "AWS_CONTAINER_CREDENTIALS_FULL_URI '%s': %s",
		    url, what);
}

/* 1 if host (without port or brackets) may be sent credentials over
 * plain HTTP: loopback, or the container agents' link-local addresses. */
static int
container_host_ok(const char *host)
{
	static const char *const agents[] = {
		"localhost", "::1", "169.254.170.2", "169.254.170.23",
		"fd00:ec2::23",
	};
	unsigned a, b, c, d;
	char tail;

	for (size_t i = 0; i < sizeof agents / sizeof *agents; i++)
		if (strcasecmp(host, agents[i]) == 0)
			return 1;
	return sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 &&
	    a == 127 && b < 256 && c < 256 && d < 256;
}

int
creds_container_url(const char *rel, const char *full, char *out,
    size_t outlen, char *err, size_t errlen)
{
	char host[256];
	const char *p, *e;
	size_t n;

	if (rel != NULL) {
		if (rel[0] != '/') {
			if (errlen > 0)
				snprintf(err, errlen, "AWS_CONTAINER_CREDENTIALS_"
				    "RELATIVE_URI '%s': does not start with '/'", rel);
			return -1;
		}
		if ((size_t)snprintf(out, outlen, "http://169.254.170.2%s",
		    rel) >= outlen) {
			if (errlen > 0)
				snprintf(err, errlen, "AWS_CONTAINER_CREDENTIALS_"
				    "RELATIVE_URI: too long");
			return -1;
		}
		return 0;
	}
	if (full == NULL) {
		cu_err(err, errlen, "not set", "");
		return -1;
	}
	if (strncmp(full, "https://", 8) == 0)
		p = full + 8;
	else if (strncmp(full, "http://", 7) == 0)
		p = full + 7;
	else {
		cu_err(err, errlen, "not an http:// or https:// URL", full);
		return -1;
	}
	if (*p == '[') {
		if ((e = strchr(p, ']')) == NULL) {
			cu_err(err, errlen, "bad host", full);
			return -1;
		}
		p++;
	} else
		e = p + strcspn(p, ":/?#");
	n = (size_t)(e - p);
	if (n == 0 || n >= sizeof host || memchr(p, '@', n) != NULL ||
	    strcspn(p, "@") < strcspn(p, "/")) {
		cu_err(err, errlen, "bad host", full);
		return -1;
	}
	memcpy(host, p, n);
	host[n] = '\0';
	if (full[4] == ':' && !container_host_ok(host)) {
		cu_err(err, errlen, "plain http:// only to a loopback address "
		    "or the container agent (credentials would cross the "
		    "network unencrypted)", full);
		return -1;
	}
	if ((size_t)snprintf(out, outlen, "%s", full) >= outlen) {
		cu_err(err, errlen, "too long", "");
		return -1;
	}
	return 0;
}

int
creds_sts_url(const char *override, const char *region, const char *regional,
    char *out, size_t outlen, const char **sign_region)
{
	/* The regions whose STS calls went to sts.amazonaws.com before
	 * regional endpoints became the default ("legacy" mode). */
	static const char *const legacy[] = {
		"ap-northeast-1", "ap-south-1", "ap-southeast-1",
		"ap-southeast-2", "aws-global", "ca-central-1", "eu-central-1",
		"eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3",
		"sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
	};
	int n;

	*sign_region = region;
	if (override != NULL) {
		size_t k = strlen(override);

		while (k > 0 && override[k - 1] == '/')
			k--;
		n = snprintf(out, outlen, "%.*s/", (int)k, override);
		return n < 0 || (size_t)n >= outlen ? -1 : 0;
	}
	if (regional != NULL && strcasecmp(regional, "legacy") == 0)
		for (size_t i = 0; i < sizeof legacy / sizeof *legacy; i++)
			if (strcmp(region, legacy[i]) == 0) {
				*sign_region = "us-east-1";
				n = snprintf(out, outlen, "https://sts.amazonaws.com/");
				return n < 0 || (size_t)n >= outlen ? -1 : 0;
			}
	n = snprintf(out, outlen, "https://sts.%s.amazonaws.com/", region);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int
creds_parse_time(const char *s, time_t *t)
{
	struct tm tm;
	const char *p;
	int oh = 0, om = 0;
	time_t v;

	memset(&tm, 0, sizeof tm);
	if (s == NULL || (p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == 'Z' || *p == 'z')
		p++;
	else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && p[3] == ':' &&
	    isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5])) {
		int sign = *p == '-' ? -1 : 1;

		oh = sign * ((p[1] - '0') * 10 + (p[2] - '0'));
		om = sign * ((p[4] - '0') * 10 + (p[5] - '0'));
		p += 6;
	} else
		return -1;
	if (*p != '\0' || (v = timegm(&tm)) == (time_t)-1)
		return -1;
	*t = v - (time_t)oh * 3600 - (time_t)om * 60;
	return 0;
}

char *
creds_form_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out, *o;

	if (n > (((size_t)-1) - 1) / 3 || (out = malloc(3 * n + 1)) == NULL)
		return NULL;
	for (o = out; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~')
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
