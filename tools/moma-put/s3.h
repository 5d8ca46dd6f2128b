/*
 * s3.h - what moma-put needs to talk to S3: configuration by the AWS
 * conventions, object addressing and SigV4 signing through libcurl.  The
 * XML answers are read in xml.h.
 *
 * Nothing here prints or exits: functions return 0 or -1 and fill a
 * caller-supplied error buffer.  Secrets live only in struct s3_conf and
 * are handed to libcurl; no function formats them into a message.
 */
#ifndef MOMA_PUT_S3_H
#define MOMA_PUT_S3_H

#include <stddef.h>

#include <curl/curl.h>

#include "creds/creds.h"
#include "xml.h"

#define S3_ERR_LEN 1024

/* SHA-256 of the empty string: the payload hash of a request without body. */
#define S3_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct s3_conf {
	struct creds creds;	/* owned: keys, expiry, where they came from */
	char *region;		/* owned */
	char *endpoint;		/* base URL without trailing '/', or NULL: AWS */
	char *ca_bundle;	/* owned, or NULL */
	const char *content_type;
	int insecure;		/* skip TLS verification */
	long connect_timeout;	/* seconds */
	long stall_timeout;	/* seconds below 1 KiB/s before giving up */
	int virtual_hosted;	/* the profile's s3 addressing_style = virtual */
	struct curl_slist *resolve;	/* owned: MOMA_PUT_RESOLVE, for tests */
	/* Set by s3_conf_object(): */
	int path_style;		/* path-style addressing on AWS too */
	const char *sse;	/* x-amz-server-side-encryption, or NULL */
	const char *sse_kms_key_id;
	const char *storage_class;
};

struct s3_target {
	char *bucket, *key;	/* owned, as given */
	char *url;		/* owned: object URL, key percent-encoded */
	char *name;		/* owned: s3://bucket/key for messages */
};

/*
 * Fill c from the environment and the AWS shared files.  Region: region
 * if not NULL, else AWS_REGION, AWS_DEFAULT_REGION, the "region" of the
 * profile (profile, else AWS_PROFILE, else "default") in AWS_CONFIG_FILE
 * (default ~/.aws/config), else us-east-1.  Endpoint: endpoint if not
 * NULL, else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL; it must start with
 * http:// or https://.  Addressing: the profile's nested "s3 =" setting
 * "addressing_style" (path, virtual or auto).  CA bundle: AWS_CA_BUNDLE.
 * MOMA_PUT_RESOLVE (tests only): "HOST:PORT:ADDRESS[,...]" entries for
 * CURLOPT_RESOLVE, so that virtual-hosted names need no DNS.  Credentials: the AWS
 * SDKs' default chain, creds_load() in creds.h; c->creds.desc says which
 * source (no secret in it).  Uses libcurl (STS, container, instance
 * metadata): call curl_global_init() first.  Returns 0, or -1 with a
 * message in err (no credentials and where it looked, a source that
 * failed, bad endpoint, out of memory).  Free with s3_conf_free().
 */
int s3_conf_load(struct s3_conf *c, const char *profile, const char *region,
    const char *endpoint, char *err, size_t errlen);
void s3_conf_free(struct s3_conf *c);

/*
 * Renew c's temporary credentials when they expire within 5 minutes
 * (creds_refresh()); no I/O otherwise.  Call it before building each
 * request (s3_base_headers, s3_easy_setup), retries included, or use
 * s3_easy_creds() on a handle that is sent again.  0: nothing to do, 1:
 * renewed (c->creds.desc says until when), -1: renewal failed, err says
 * why, and the old credentials stay (the server refuses them once
 * expired).
 */
int s3_conf_refresh(struct s3_conf *c, char *err, size_t errlen);

/*
 * Object options, checked: sse "AES256", "aws:kms" or "aws:kms:dsse"
 * (or NULL); kms_key_id only with aws:kms*; storage_class upper-case
 * letters, digits and '_' (STANDARD_IA, GLACIER_IR, ...); path_style
 * forces path-style addressing.  Call before s3_target_parse().  The
 * strings must outlive c.  0, or -1 with a message in err.
 */
int s3_conf_object(struct s3_conf *c, const char *sse, const char *kms_key_id,
    const char *storage_class, int path_style, char *err, size_t errlen);

/*
 * The headers that CreateMultipartUpload and PutObject carry for the
 * object options: x-amz-server-side-encryption,
 * x-amz-server-side-encryption-aws-kms-key-id, x-amz-storage-class.
 * Appends to list, which must not be NULL (s3_base_headers' result);
 * returns the new list, or NULL on allocation failure (list freed).
 */
struct curl_slist *s3_object_headers(struct curl_slist *list,
    const struct s3_conf *c);

/*
 * Parse "s3://bucket/key" into t, building the object URL: virtual-hosted
 * (https://bucket.s3.REGION.amazonaws.com/key) on AWS, path-style
 * (ENDPOINT/bucket/key) under c->endpoint unless c->virtual_hosted
 * (then scheme://bucket.HOST/key), and path-style whenever the bucket
 * name holds a dot or c->path_style is set.  The key must pass
 * the key check (at most 1024 bytes of UTF-8, no control character, no
 * "." or ".." segment); each of its bytes but '/' is percent-encoded once, and
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
 * Put c's current credentials on a handle that is about to be sent
 * again (a retry after s3_conf_refresh()): the SigV4 keys, and the
 * x-amz-security-token header in *hdrs, which is replaced by a new list
 * set as CURLOPT_HTTPHEADER (the old one is freed).  0, or -1 if out of
 * memory (*hdrs is then unchanged).
 */
int s3_easy_creds(CURL *e, struct curl_slist **hdrs, const struct s3_conf *c);

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

/*
 * The x-amz-meta-NAME headers of nmeta "name=value" strings (a name already
 * checked and lower-cased; an empty value is sent as curl's "name;"), for
 * Create, PutObject and Copy.  Appends to list; the new list, or NULL on
 * allocation failure (list freed).
 */
struct curl_slist *s3_meta_headers(struct curl_slist *list,
    const char *const *meta, int nmeta);

/* SHA-256 of n bytes as lower-case hex into out: the payload hash of a
 * request with a body.  0, or -1 if libcrypto has no SHA-256. */
int s3_sha256_hex(const void *buf, size_t n, char out[65]);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void s3_hex(const unsigned char *p, size_t n, char *out);

#endif
