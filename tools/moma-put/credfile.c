/*
 * credfile.c - the files of the credential chain: the shared credentials
 * and config files (INI sections, settings nested under "parent ="), and
 * token files read whole.  See creds.h.
 */
#include "creds.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errenv.h"

#define TOKEN_MAX (16 * 1024)	/* largest token file */

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

int
creds_profile_exists(const char *profile)
{
	int seen = 0;

	free(creds_profile_get(profile, "\n", &seen));
	return seen;
}

/* Read a token file whole (trimmed), at most TOKEN_MAX bytes. */
char *
creds_read_token(const char *path, const char *what, char *err, size_t errlen)
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
	buf[n] = '\0';
	t = trim(buf);
	memmove(buf, t, strlen(t) + 1);
	if (*buf == '\0' || strpbrk(buf, "\r\n") != NULL) {
		creds_free_secret(buf);
		errenv_set(err, errlen, "%s %s: empty or not one line", what, path);
		return NULL;
	}
	return buf;
}
