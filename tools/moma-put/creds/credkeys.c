/*
 * credkeys.c - the keys of struct creds: taken, replaced, zeroed before
 * they are freed.  See creds.h.
 */
#include "creds.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../errenv.h"

/* Zero a secret before freeing it. */
void
creds_free_secret(char *s)
{
	if (s != NULL) {
		volatile char *p = s;

		while (*p)
			*p++ = '\0';
		free(s);
	}
}

void
creds_keys_free(struct creds *c)
{
	creds_free_secret(c->access_key);
	creds_free_secret(c->secret_key);
	creds_free_secret(c->session_token);
	c->access_key = c->secret_key = c->session_token = NULL;
}

/* Take copies of the keys; expiry from exp (NULL: none).  0 or -1. */
int
creds_keys_set(struct creds *c, const char *ak, const char *sk, const char *tok,
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
	creds_keys_free(c);
	c->access_key = strdup(ak);
	c->secret_key = strdup(sk);
	c->session_token = tok && *tok ? strdup(tok) : NULL;
	c->expires = t;
	if (c->access_key == NULL || c->secret_key == NULL ||
	    (tok && *tok && c->session_token == NULL)) {
		creds_keys_free(c);
		errenv_set(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	return 0;
}
