/*
 * creds.c - the AWS SDKs' default credential chain.  See creds.h.
 *
 * Every source ends in the same place: a struct creds with keys, an
 * expiry (0 for static keys) and a description without secrets.  Temporary
 * credentials remember their kind so that creds_refresh() asks the same
 * source again.
 *
 * Files of this folder, from the top: creds.c the chain and the profiles
 * (which source a profile names); credsrc.c the sources that answer over
 * HTTP or from a child process (STS, container, instance metadata,
 * credential_process) and token files; credkeys.c the keys themselves;
 * credurl.c the pure helpers.  The shared files are read by ../awsconf.c.
 */
#include "creds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../awsconf.h"
#include "../errenv.h"

#define PROFILE_DEPTH 5		/* source_profile hops */

static void
fmt_time(time_t t, char *out, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, len, "?");
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

/* ---- profiles --------------------------------------------------------------- */

static int from_profile(struct creds *out, const char *name, const char *region,
    int depth, int *found, char *err, size_t errlen);

/* Static keys of profile name; *found 0 when it has none. */
static int
profile_static(struct creds *out, const char *name, int *found, char *err,
    size_t errlen)
{
	char *ak = awsconf_get(name, "aws_access_key_id", NULL);
	char *sk = awsconf_get(name, "aws_secret_access_key", NULL);
	char *tok = awsconf_get(name, "aws_session_token", NULL);
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
			rc = creds_keys_set(out, ak, sk, tok, NULL, where, err, errlen);
		snprintf(out->desc, sizeof out->desc, "profile [%s], static keys", name);
	}
	creds_free_secret(ak);
	creds_free_secret(sk);
	creds_free_secret(tok);
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
		return creds_keys_set(src, errenv_get("AWS_ACCESS_KEY_ID"),
		    errenv_get("AWS_SECRET_ACCESS_KEY"), errenv_get("AWS_SESSION_TOKEN"), NULL,
		    "environment", err, errlen);
	}
	if (strcmp(csrc, "EcsContainer") == 0)
		return creds_container(src, err, errlen);
	if (strcmp(csrc, "Ec2InstanceMetadata") == 0) {
		if (creds_imds_disabled()) {
			errenv_set(err, errlen, "profile [%s]: credential_source "
			    "Ec2InstanceMetadata but AWS_EC2_METADATA_DISABLED", name);
			return -1;
		}
		return creds_imds(src, &absent, err, errlen);
	}
	errenv_set(err, errlen, "profile [%s]: credential_source '%.40s': expected "
	    "Environment, Ec2InstanceMetadata or EcsContainer", name, csrc);
	return -1;
}

static int
profile_role(struct creds *out, const char *name, const char *role,
    const char *region, int depth, char *err, size_t errlen)
{
	char *sprof = awsconf_get(name, "source_profile", NULL);
	char *csrc = awsconf_get(name, "credential_source", NULL);
	char *wif = awsconf_get(name, "web_identity_token_file", NULL);
	char *sess = awsconf_get(name, "role_session_name", NULL);
	char *dur = awsconf_get(name, "duration_seconds", NULL);
	char *ext = awsconf_get(name, "external_id", NULL);
	char *mfa = awsconf_get(name, "mfa_serial", NULL);
	char *preg = awsconf_get(name, "region", NULL);
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
		if (creds_web_identity(out, wif, role, sess, region, name, err, errlen) != 0)
			goto out;
		snprintf(out->desc, sizeof out->desc, "profile [%s], web identity "
		    "from %s, role %s", name, wif, role);
		rc = 0;
		goto out;
	}
	if (role_source(&src, name, sprof, csrc, region, depth, err, errlen) != 0 ||
	    creds_assume_role(out, role, sess, dur, ext, &src, region, name, err,
	    errlen) != 0)
		goto out;
	snprintf(out->desc, sizeof out->desc, "profile [%s], role %s via STS "
	    "AssumeRole with %s%s%s", name, role, sprof ? "source_profile " :
	    "credential_source ", sprof ? sprof : csrc, "");
	rc = 0;
out:
	creds_keys_free(&src);
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
	char *role = awsconf_get(name, "role_arn", NULL), *cmd = NULL;
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
	if ((cmd = awsconf_get(name, "credential_process", NULL)) != NULL) {
		*found = 1;
		rc = creds_process(out, cmd, name, err, errlen);
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
		rc = creds_keys_set(&t, errenv_get("AWS_ACCESS_KEY_ID"), errenv_get("AWS_SECRET_ACCESS_KEY"),
		    errenv_get("AWS_SESSION_TOKEN"), NULL, "environment", err, errlen);
		snprintf(t.desc, sizeof t.desc, "environment (AWS_ACCESS_KEY_ID%s)",
		    errenv_get("AWS_SESSION_TOKEN") ? ", AWS_SESSION_TOKEN" : "");
		break;
	case CREDS_WEB_IDENTITY:
		rc = creds_web_identity(&t, errenv_get("AWS_WEB_IDENTITY_TOKEN_FILE"),
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
		rc = creds_container(&t, err, errlen);
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
		rc = creds_imds(&t, absent, err, errlen);
		break;
	case CREDS_NONE:
		break;
	}
	if (rc != 0) {
		creds_keys_free(&t);
		return -1;
	}
	creds_keys_free(cr);
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
	char *cred = awsconf_credentials_file(), *cfg = awsconf_config_file();
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
	if (awsconf_exists(profile)) {
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
	creds_imds_base(imdsurl, sizeof imdsurl);
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
	creds_keys_free(cr);
	free(cr->profile);
	free(cr->region);
	memset(cr, 0, sizeof *cr);
}
