/*
 * creds.h - the AWS SDKs' default credential chain, for moma-put.
 *
 * In the SDKs' order: environment keys; web identity
 * (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, STS
 * AssumeRoleWithWebIdentity); the shared config and credentials files'
 * profile (role_arn with source_profile or credential_source through a
 * SigV4-signed STS AssumeRole, web_identity_token_file, static keys,
 * credential_process); container credentials
 * (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI); EC2 instance
 * metadata, IMDSv2 only.  moma-put(1) ENVIRONMENT and FILES say the same
 * for users.
 *
 * Nothing here prints or exits: functions return 0 or -1 and fill a
 * caller-supplied error buffer.  No message, and no description in
 * struct creds, ever holds a secret key, a session token, a web identity
 * token or a container authorization token.
 *
 * Credentials are used from one thread only (moma-put's main thread):
 * nothing here locks.
 */
#ifndef MOMA_PUT_CREDS_H
#define MOMA_PUT_CREDS_H

#include <stddef.h>
#include <time.h>

#define CREDS_DESC_LEN 320
/* Temporary credentials are renewed this long before they expire. */
#define CREDS_REFRESH_AHEAD 300

enum creds_kind {
	CREDS_NONE, CREDS_ENV, CREDS_WEB_IDENTITY, CREDS_PROFILE,
	CREDS_CONTAINER, CREDS_IMDS,
};

struct creds {
	char *access_key, *secret_key, *session_token;	/* owned */
	time_t expires;		/* 0: they do not expire */
	char desc[CREDS_DESC_LEN];	/* "web identity, role arn:..., expires ..." */
	/* How to get them again (creds_refresh). */
	enum creds_kind kind;
	char *profile;		/* owned: the profile used, CREDS_PROFILE */
	char *region;		/* owned: the STS region */
	time_t next_try;	/* after a failed refresh, not before */
	unsigned refreshes;	/* how many times they were renewed */
};

/*
 * Find credentials by the chain above.  profile is --profile (NULL if not
 * given: AWS_PROFILE, else "default"); an explicit --profile skips the
 * environment keys, as the AWS CLI does.  region is the resolved region,
 * used for STS.  Returns 0 with cr filled, or -1 with a message in err:
 * a source that is configured but fails stops the chain with its own
 * error; with no source at all the message lists where it looked.  Free
 * with creds_free().
 */
int creds_load(struct creds *cr, const char *profile, const char *region,
    char *err, size_t errlen);

/*
 * Renew temporary credentials from the source they came from when they
 * expire within CREDS_REFRESH_AHEAD seconds.  Cheap otherwise (no I/O).
 * Returns 0 when nothing was needed, 1 when renewed (cr->desc says the
 * new expiry), -1 when renewal failed (err says why; cr keeps the old
 * credentials, which may still work until they expire; the next try is
 * not before 10 s unless they have expired).
 */
int creds_refresh(struct creds *cr, char *err, size_t errlen);

void creds_free(struct creds *cr);

/* 1 when AWS_EC2_METADATA_DISABLED is "true". */
int creds_imds_disabled(void);

/* ---- between the files of this folder ------------------------------------ */

/* credkeys.c: zero a secret (NUL-terminated) before freeing it; NULL is fine. */
void creds_free_secret(char *s);

/* Free c's keys (zeroed first). */
void creds_keys_free(struct creds *c);

/* Take copies of the keys into c, the expiry from exp (ISO 8601; NULL:
 * none); where names the source in err.  0 or -1. */
int creds_keys_set(struct creds *c, const char *ak, const char *sk,
    const char *tok, const char *exp, const char *where, char *err,
    size_t errlen);

/*
 * credsrc.c, each source into out (keys, expiry; some set out->desc), 0
 * or -1 with err.  Web identity: STS AssumeRoleWithWebIdentity with the
 * token of token_file; assume_role: STS AssumeRole signed with signer's
 * keys.  session (NULL: moma-put-UNIXTIME), duration and external_id may
 * be NULL; profile (may be NULL) for its sts_regional_endpoints.
 */
int creds_web_identity(struct creds *out, const char *token_file,
    const char *role, const char *session, const char *region,
    const char *profile, char *err, size_t errlen);
int creds_assume_role(struct creds *out, const char *role,
    const char *session, const char *duration, const char *external_id,
    const struct creds *signer, const char *region, const char *profile,
    char *err, size_t errlen);
/* Container credentials at the AWS_CONTAINER_CREDENTIALS_* URL. */
int creds_container(struct creds *out, char *err, size_t errlen);
/* IMDSv2; *absent when no metadata service answered or it has no role. */
int creds_imds(struct creds *out, int *absent, char *err, size_t errlen);
/* The instance metadata base URL, without trailing '/'. */
void creds_imds_base(char *out, size_t len);
/* The JSON a profile's credential_process command prints. */
int creds_process(struct creds *out, const char *cmd, const char *profile,
    char *err, size_t errlen);

/* ---- pure helpers (credurl.c), unit-tested ------------------------------ */

/*
 * The container credentials URL: rel (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)
 * under http://169.254.170.2, else full (_FULL_URI), which must be https://
 * or http:// to a loopback address (127.0.0.0/8, [::1], localhost) or to
 * the ECS and EKS agents (169.254.170.2, 169.254.170.23, [fd00:ec2::23]).
 * Writes it to out; 0, or -1 with a message in err.
 */
int creds_container_url(const char *rel, const char *full, char *out,
    size_t outlen, char *err, size_t errlen);

/*
 * The STS endpoint for region: override (AWS_ENDPOINT_URL_STS or
 * AWS_ENDPOINT_URL) if not NULL, else https://sts.REGION.amazonaws.com,
 * or https://sts.amazonaws.com when regional is "legacy" and region is
 * one of the regions STS served globally.  *sign_region is the region to
 * sign for (us-east-1 for the global endpoint).  0, or -1 if too long.
 */
int creds_sts_url(const char *override, const char *region,
    const char *regional, char *out, size_t outlen, const char **sign_region);

/*
 * Parse an ISO 8601 UTC time as STS, IMDS and credential_process write
 * it ("2026-12-01T10:00:00Z", fractions and "+00:00" allowed).  0, or -1.
 */
int creds_parse_time(const char *s, time_t *t);

/* Percent-encode s for a form body or query (RFC 3986 unreserved kept). */
char *creds_form_encode(const char *s);

#endif
