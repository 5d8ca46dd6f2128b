/*
 * errenv.h - the two helpers s3.c and the creds*.c files share: an error buffer
 * filled printf-style, and an environment variable that counts only when
 * set to something.
 */
#ifndef MOMA_PUT_ERRENV_H
#define MOMA_PUT_ERRENV_H

#include <stddef.h>

/* Format into err (errlen bytes, truncated, NUL-terminated); nothing if
 * errlen is 0. */
void errenv_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* getenv(name), or NULL when unset or empty. */
const char *errenv_get(const char *name);

#endif
