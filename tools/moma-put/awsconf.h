/*
 * awsconf.h - the AWS shared files, read as the SDKs read them: the
 * credentials file's [profile] and the config file's [profile NAME]
 * ([default] for "default").  The credential chain (creds/) takes keys
 * and role settings from them, s3.c the region and the addressing style.
 *
 * Nothing here prints or exits.  Values are malloc'd; a value that may
 * be a secret (aws_secret_access_key) is the caller's to zero.
 */
#ifndef MOMA_PUT_AWSCONF_H
#define MOMA_PUT_AWSCONF_H

/*
 * key of profile: the shared credentials file's [profile] first, then
 * the config file's [profile NAME] ([default] for "default").  Sets
 * *seen (may be NULL) when either file has the profile.  A malloc'd
 * value, or NULL when unset or empty.
 */
char *awsconf_get(const char *profile, const char *key, int *seen);

/* The same for a setting nested under "parent =", as the config file's
 * "s3 =" block holds "addressing_style = virtual". */
char *awsconf_get_nested(const char *profile, const char *parent,
    const char *key);

/* 1 when the shared files have a section for profile. */
int awsconf_exists(const char *profile);

/* AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, AWS_CONFIG_FILE or
 * ~/.aws/config: malloc'd paths, NULL without HOME. */
char *awsconf_credentials_file(void);
char *awsconf_config_file(void);

#endif
