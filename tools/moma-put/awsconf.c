/*
 * awsconf.c - the AWS shared config and credentials files: INI sections,
 * settings nested under "parent =".  See awsconf.h.
 */
#include "awsconf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errenv.h"

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
awsconf_credentials_file(void)
{
	return home_file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
}

char *
awsconf_config_file(void)
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

/* key (nested under parent when not NULL) of profile; see awsconf.h. */
static char *
profile_get(const char *profile, const char *parent, const char *key, int *seen)
{
	char *cred = awsconf_credentials_file(), *cfg = awsconf_config_file();
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
awsconf_get(const char *profile, const char *key, int *seen)
{
	return profile_get(profile, NULL, key, seen);
}

char *
awsconf_get_nested(const char *profile, const char *parent, const char *key)
{
	return profile_get(profile, parent, key, NULL);
}

int
awsconf_exists(const char *profile)
{
	int seen = 0;

	free(awsconf_get(profile, "\n", &seen));
	return seen;
}
