/*
 * parts.c - the parts of a multipart upload as S3 acknowledged them:
 * their list (size, MD5, ETag), the ETag S3 gives the whole object, and
 * the body of CompleteMultipartUpload.  upload.c records the parts,
 * state.c writes and reads them back, Complete sends them; none of
 * these needs the other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "put.h"

/* Part partno (1-based) as S3 acknowledged it; the list grows by
 * doubling.  0, or -1 when out of memory. */
int
parts_record(struct put *p, unsigned partno, uint64_t size,
    const unsigned char md5[16], const char *etag)
{
	if (partno >= p->parts_cap) {
		unsigned cap = p->parts_cap ? p->parts_cap : 64;
		struct partinfo *pi;

		while (cap <= partno)
			cap *= 2;
		if ((pi = realloc(p->parts, cap * sizeof *pi)) == NULL)
			return -1;
		memset(pi + p->parts_cap, 0, (cap - p->parts_cap) * sizeof *pi);
		p->parts = pi;
		p->parts_cap = cap;
	}
	p->parts[partno].size = size;
	memcpy(p->parts[partno].md5, md5, 16);
	snprintf(p->parts[partno].etag, sizeof p->parts[partno].etag, "%.71s", etag);
	return 0;
}

/* The ETag S3 gives a completed multipart object: MD5 of the parts'
 * MD5s.  0, or -1 when libcrypto has no MD5. */
int
parts_etag(const struct partinfo *pi, unsigned n, char *out, size_t len)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char d[16];
	unsigned int dl = 16;
	char hex[33];

	if (c == NULL || !EVP_DigestInit_ex(c, EVP_md5(), NULL)) {
		EVP_MD_CTX_free(c);
		return -1;
	}
	for (unsigned i = 1; i <= n; i++)
		EVP_DigestUpdate(c, pi[i].md5, 16);
	EVP_DigestFinal_ex(c, d, &dl);
	EVP_MD_CTX_free(c);
	s3_hex(d, 16, hex);
	snprintf(out, len, "%s-%u", hex, n);
	return 0;
}

/* An ETag we put back into XML must be plain: hex digits and '-'. */
int
parts_etag_ok(const char *s)
{
	if (*s == '\0' || strlen(s) >= sizeof ((struct partinfo *)0)->etag)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		    (*s >= 'A' && *s <= 'F') || *s == '-'))
			return 0;
	return 1;
}

/* The CompleteMultipartUpload body of parts 1..nparts, malloc'd, its
 * length in *lenp; NULL when out of memory. */
char *
parts_complete_body(const struct put *p, size_t *lenp)
{
	static const char head[] = "<CompleteMultipartUpload "
	    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
	static const char tail[] = "</CompleteMultipartUpload>";
	size_t cap = sizeof head + sizeof tail + (size_t)p->nparts * 128, len;
	char *body = malloc(cap);

	if (body == NULL)
		return NULL;
	len = (size_t)snprintf(body, cap, "%s", head);
	for (unsigned i = 1; i <= p->nparts; i++)
		len += (size_t)snprintf(body + len, cap - len,
		    "<Part><PartNumber>%u</PartNumber><ETag>\"%s\"</ETag></Part>",
		    i, p->parts[i].etag);
	len += (size_t)snprintf(body + len, cap - len, "%s", tail);
	/* 128 bytes a part hold the longest line (etag < 72 bytes). */
	*lenp = len;
	return body;
}
