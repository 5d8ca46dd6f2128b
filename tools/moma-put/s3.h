/*
 * s3.h - what moma-put needs to talk to S3: configuration by the AWS
 * conventions, object addressing, SigV4 signing through libcurl, and the
 * XML answers, parsed with expat.
 *
 * Nothing here prints or exits: functions return 0 or -1 and fill a
 * caller-supplied error buffer.  Secrets live only in struct s3_conf and
 * are handed to libcurl; no function formats them into a message.
 */
#ifndef MOMA_PUT_S3_H
#define MOMA_PUT_S3_H

#include <stddef.h>

#include <curl/curl.h>

#define S3_ERR_LEN 512

/* SHA-256 of the empty string: the payload hash of a request without body. */
#define S3_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct s3_conf {
	char *access_key, *secret_key, *session_token;	/* owned */
	char *region;		/* owned */
	char *endpoint;		/* base URL without trailing '/', or NULL: AWS */
	char *ca_bundle;	/* owned, or NULL */
	const char *content_type;
	int insecure;		/* skip TLS verification */
	long connect_timeout;	/* seconds */
	long stall_timeout;	/* seconds below 1 KiB/s before giving up */
};

struct s3_target {
	char *bucket, *key;	/* owned, as given */
	char *url;		/* owned: object URL, key percent-encoded */
	char *name;		/* owned: s3://bucket/key for messages */
};

/*
 * Fill c from the environment and the AWS shared files.  Credentials:
 * AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), else
 * the section of AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials)
 * named by profile, AWS_PROFILE or "default".  Region: region if not
 * NULL, else AWS_REGION, AWS_DEFAULT_REGION, the profile's "region" in
 * AWS_CONFIG_FILE (default ~/.aws/config), else us-east-1.  Endpoint:
 * endpoint if not NULL, else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL; it
 * must start with http:// or https://.  CA bundle: AWS_CA_BUNDLE.
 * Returns 0, or -1 with a message in err (no credentials, bad endpoint,
 * out of memory).  Free with s3_conf_free().
 */
int s3_conf_load(struct s3_conf *c, const char *profile, const char *region,
    const char *endpoint, char *err, size_t errlen);
void s3_conf_free(struct s3_conf *c);

/*
 * Parse "s3://bucket/key" into t, building the object URL: path-style
 * under c->endpoint when set, else virtual-hosted AWS addressing
 * (path-style when the bucket name holds a dot).  The key must pass
 * s3_key_check(); each of its bytes but '/' is percent-encoded once, and
 * requests send the path as is.  Returns 0, or -1 with a message in err.
 * Free with s3_target_free().
 */
int s3_target_parse(const char *uri, const struct s3_conf *c,
    struct s3_target *t, char *err, size_t errlen);
void s3_target_free(struct s3_target *t);

/*
 * As s3_target_parse for "s3://bucket[/prefix]": t->key is the prefix
 * (possibly empty) and t->url the bucket's URL ending in '/'.
 */
int s3_bucket_parse(const char *uri, const struct s3_conf *c,
    struct s3_target *t, char *err, size_t errlen);

/*
 * Check an object key (or, with prefix, a possibly empty prefix): at
 * most 1024 bytes of valid UTF-8, no control character, no "." or ".."
 * path segment.  0, or -1 with the reason in err.
 */
int s3_key_check(const char *key, int prefix, char *err, size_t errlen);

/*
 * Percent-encode s as SigV4 wants (everything but A-Z a-z 0-9 - _ . ~,
 * and '/' too when keep_slash).  Returns a malloc'd string or NULL.
 */
char *s3_uri_encode(const char *s, int keep_slash);

/*
 * Set the options every request shares on e: SigV4 signing for region
 * (CURLOPT_AWS_SIGV4 "aws:amz:REGION:s3" with CURLOPT_USERNAME and
 * CURLOPT_PASSWORD, so an access key may hold a colon), TLS verification
 * unless c->insecure, timeouts, user agent.  0, or -1 if curl refused.
 */
int s3_easy_setup(CURL *e, const struct s3_conf *c);

/*
 * Headers every request carries: x-amz-content-sha256 set to
 * payload_hash (curl 7.88 does not add it) and x-amz-security-token when
 * a session token is set.  Appends to list; returns the new list or NULL
 * on allocation failure (list is then freed).
 */
struct curl_slist *s3_base_headers(struct curl_slist *list,
    const struct s3_conf *c, const char *payload_hash);

/* Append "name: value" to list; NULL (list freed) on allocation failure. */
struct curl_slist *s3_header(struct curl_slist *list, const char *name,
    const char *value);

/* The fields of an S3 XML answer that moma-put reads. */
struct s3_xml {
	char root[64];		/* name of the document element */
	char code[64];		/* Error/Code */
	char message[256];	/* Error/Message */
	char upload_id[512];	/* InitiateMultipartUploadResult/UploadId */
	char etag[128];		/* CompleteMultipartUploadResult/ETag, unquoted */
};

/*
 * Parse an S3 answer of len bytes (leading whitespace, which S3 sends to
 * keep a long Complete alive, is skipped).  Returns 0, or -1 if the body
 * is empty or not well-formed XML; too-long fields are truncated.
 */
int s3_xml_parse(const char *body, size_t len, struct s3_xml *x);

/* One page of a ListMultipartUploads answer. */
#define S3_LIST_MAX 1000
struct s3_upload {
	char key[1100];
	char upload_id[512];
	char initiated[40];
};
struct s3_upload_list {
	struct s3_upload up[S3_LIST_MAX];
	int n;
	char truncated[8];		/* "true" when more pages follow */
	char next_key[1100], next_upload_id[512];
};

/* Parse a ListMultipartUploadsResult into l.  0, or -1 if not XML. */
int s3_uploads_parse(const char *body, size_t len, struct s3_upload_list *l);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void s3_hex(const unsigned char *p, size_t n, char *out);

#endif
