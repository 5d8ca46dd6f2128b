/*
 * Unit tests for the pure parts of moma-put's credential chain
 * (tools/moma-put/creds/credurl.c, included whole: it needs nothing beyond
 * libc): the container credentials URL, whose RELATIVE_URI form points at
 * the ECS agent's 169.254.170.2 and so is never contacted by the bats
 * tests; which FULL_URI hosts may get credentials over plain HTTP; STS
 * endpoints; ISO 8601 expiry times.  Output is TAP.
 */
#include <string.h>

#include "../../tools/moma-put/creds/credurl.c"

#include "tap.h"

/* 0 or -1 from creds_container_url, the URL in out. */
static int
curl_of(const char *rel, const char *full, char *out, size_t len)
{
	char err[256];

	return creds_container_url(rel, full, out, len, err, sizeof err);
}

int
main(void)
{
	char u[512], err[256];
	const char *sr;
	time_t t;

	ok(curl_of("/v2/credentials/7b1c-uuid", NULL, u, sizeof u) == 0 &&
	    strcmp(u, "http://169.254.170.2/v2/credentials/7b1c-uuid") == 0,
	    "RELATIVE_URI goes under http://169.254.170.2: %s", u);
	ok(curl_of("/a", "http://127.0.0.1:9/b", u, sizeof u) == 0 &&
	    strcmp(u, "http://169.254.170.2/a") == 0,
	    "RELATIVE_URI wins over FULL_URI, as in the SDKs");
	ok(creds_container_url("v2/x", NULL, u, sizeof u, err, sizeof err) == -1 &&
	    strstr(err, "does not start with '/'") != NULL,
	    "RELATIVE_URI without a leading '/' refused: %s", err);
	static const char *const good[] = {
		"http://127.0.0.1:8080/creds", "http://127.1.2.3/c",
		"http://localhost:9/c", "http://[::1]:9/c",
		"http://169.254.170.2/v1/c", "http://169.254.170.23/v1/credentials",
		"http://[fd00:ec2::23]/v1/credentials",
		"https://creds.example.com/c", "https://10.0.0.5/c",
	};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		ok(curl_of(NULL, good[i], u, sizeof u) == 0 && strcmp(u, good[i]) == 0,
		    "FULL_URI accepted: %s", good[i]);
	static const char *const bad[] = {
		"http://10.0.0.5/c", "http://example.com/c", "http://128.0.0.1/c",
		"http://127.0.0.1.example.com/c", "http://user@127.0.0.1/c",
		"http://127.0.0.1@evil.example/c", "ftp://127.0.0.1/c",
		"http://[fd00:ec2::24]/c", "http://127.0.0.256/c",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		ok(creds_container_url(NULL, bad[i], u, sizeof u, err, sizeof err) == -1,
		    "FULL_URI refused: %s (%s)", bad[i], err);

	ok(creds_sts_url(NULL, "eu-west-3", NULL, u, sizeof u, &sr) == 0 &&
	    strcmp(u, "https://sts.eu-west-3.amazonaws.com/") == 0 &&
	    strcmp(sr, "eu-west-3") == 0, "STS regional by default: %s", u);
	ok(creds_sts_url(NULL, "eu-west-3", "legacy", u, sizeof u, &sr) == 0 &&
	    strcmp(u, "https://sts.amazonaws.com/") == 0 &&
	    strcmp(sr, "us-east-1") == 0, "legacy: global endpoint, signed for us-east-1");
	ok(creds_sts_url(NULL, "af-south-1", "legacy", u, sizeof u, &sr) == 0 &&
	    strcmp(u, "https://sts.af-south-1.amazonaws.com/") == 0,
	    "legacy: a region STS never served globally stays regional");
	ok(creds_sts_url("http://127.0.0.1:7480//", "eu-west-3", "legacy", u,
	    sizeof u, &sr) == 0 && strcmp(u, "http://127.0.0.1:7480/") == 0 &&
	    strcmp(sr, "eu-west-3") == 0, "an endpoint override wins: %s", u);

	ok(creds_parse_time("2026-12-01T10:00:00Z", &t) == 0 && t == 1796119200,
	    "ISO 8601 Z");
	ok(creds_parse_time("2026-12-01T10:00:00.353886354Z", &t) == 0 &&
	    t == 1796119200, "fractions of a second (radosgw writes nanoseconds)");
	ok(creds_parse_time("2026-12-01T12:00:00+02:00", &t) == 0 && t == 1796119200,
	    "an offset");
	ok(creds_parse_time("2026-12-01 10:00:00", &t) == -1 &&
	    creds_parse_time("2026-12-01T10:00:00", &t) == -1 &&
	    creds_parse_time("2026-12-01T10:00:00Zjunk", &t) == -1 &&
	    creds_parse_time("", &t) == -1, "malformed times refused");

	char *e = creds_form_encode("arn:aws:iam::1:role/a b+c~");
	ok(e != NULL && strcmp(e, "arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b%2Bc~") == 0,
	    "form encoding: %s", e ? e : "(null)");
	free(e);
	return tap_done();
}
