/*
 * xml.c - the XML answers of S3 and STS, read with expat.  See xml.h.
 */
#include "xml.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

void
xml_field_at(struct xml_field *f, char *dst, size_t cap)
{
	f->field = dst;
	f->cap = cap;
	f->len = 0;
	dst[0] = '\0';
}

static void XMLCALL
xml_text(void *ud, const XML_Char *s, int n)
{
	struct xml_field *f = ud;
	size_t k;

	if (f->field == NULL || n <= 0)
		return;
	k = (size_t)n;
	if (k > f->cap - 1 - f->len)
		k = f->cap - 1 - f->len;
	memcpy(f->field + f->len, s, k);
	f->len += k;
	f->field[f->len] = '\0';
}

int
xml_run(const char *body, size_t len, void *ud, XML_StartElementHandler start,
    XML_EndElementHandler end)
{
	XML_Parser p;
	int ok;

	while (len > 0 && isspace((unsigned char)*body))
		body++, len--;
	if (len == 0 || len > INT_MAX || (p = XML_ParserCreate(NULL)) == NULL)
		return -1;
	XML_SetUserData(p, ud);
	XML_SetElementHandler(p, start, end);
	XML_SetCharacterDataHandler(p, xml_text);
	ok = XML_Parse(p, body, (int)len, 1) == XML_STATUS_OK;
	XML_ParserFree(p);
	return ok ? 0 : -1;
}

struct xml_ctx {
	struct xml_field f;
	struct xml_answer *x;
};

static void XMLCALL
xml_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct xml_ctx *cx = ud;
	struct xml_answer *x = cx->x;

	cx->f.depth++;
	cx->f.field = NULL;
	if (cx->f.depth == 1) {
		snprintf(x->root, sizeof x->root, "%s", name);
		return;
	}
	/* Only direct children of the document element are read. */
	if (cx->f.depth != 2)
		return;
	if (strcmp(name, "Code") == 0 && x->code[0] == '\0')
		xml_field_at(&cx->f, x->code, sizeof x->code);
	else if (strcmp(name, "Message") == 0 && x->message[0] == '\0')
		xml_field_at(&cx->f, x->message, sizeof x->message);
	else if (strcmp(name, "UploadId") == 0 && x->upload_id[0] == '\0')
		xml_field_at(&cx->f, x->upload_id, sizeof x->upload_id);
	else if (strcmp(name, "ETag") == 0 && x->etag[0] == '\0')
		xml_field_at(&cx->f, x->etag, sizeof x->etag);
}

static void XMLCALL
xml_end(void *ud, const XML_Char *name)
{
	struct xml_field *f = ud;

	f->depth--;
	f->field = NULL;
}

int
xml_answer_parse(const char *body, size_t len, struct xml_answer *x)
{
	struct xml_ctx cx = { .x = x };

	memset(x, 0, sizeof *x);
	if (xml_run(body, len, &cx, xml_start, xml_end) != 0 || x->root[0] == '\0')
		return -1;
	/* ETags come quoted, as "hex" or &quot;hex&quot;. */
	if (x->etag[0] == '"') {
		size_t n = strlen(x->etag);

		memmove(x->etag, x->etag + 1, n);
		if (n >= 2 && x->etag[n - 2] == '"')
			x->etag[n - 2] = '\0';
	}
	return 0;
}

/* ---- ListMultipartUploads ------------------------------------------------- */

struct list_ctx {
	struct xml_field f;
	struct xml_upload_list *l;
	struct xml_upload cur;
	int in_upload;
};

static void XMLCALL
list_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct list_ctx *cx = ud;
	struct xml_upload_list *l = cx->l;
	struct xml_upload *u = &cx->cur;

	cx->f.depth++;
	cx->f.field = NULL;
	if (cx->f.depth == 2 && strcmp(name, "Upload") == 0) {
		cx->in_upload = 1;
		memset(u, 0, sizeof *u);
	} else if (cx->f.depth == 3 && cx->in_upload) {
		if (strcmp(name, "Key") == 0)
			xml_field_at(&cx->f, u->key, sizeof u->key);
		else if (strcmp(name, "UploadId") == 0)
			xml_field_at(&cx->f, u->upload_id, sizeof u->upload_id);
		else if (strcmp(name, "Initiated") == 0)
			xml_field_at(&cx->f, u->initiated, sizeof u->initiated);
	} else if (cx->f.depth == 2) {
		if (strcmp(name, "IsTruncated") == 0)
			xml_field_at(&cx->f, l->truncated, sizeof l->truncated);
		else if (strcmp(name, "NextKeyMarker") == 0)
			xml_field_at(&cx->f, l->next_key, sizeof l->next_key);
		else if (strcmp(name, "NextUploadIdMarker") == 0)
			xml_field_at(&cx->f, l->next_upload_id, sizeof l->next_upload_id);
	}
}

static void XMLCALL
list_end(void *ud, const XML_Char *name)
{
	struct list_ctx *cx = ud;
	struct xml_upload_list *l = cx->l;

	if (cx->f.depth == 2 && cx->in_upload) {
		cx->in_upload = 0;
		if (l->n < XML_LIST_MAX)
			l->up[l->n++] = cx->cur;
	}
	xml_end(ud, name);
}

int
xml_uploads_parse(const char *body, size_t len, struct xml_upload_list *l)
{
	struct list_ctx cx = { .l = l };

	memset(l, 0, sizeof *l);
	return xml_run(body, len, &cx, list_start, list_end);
}
