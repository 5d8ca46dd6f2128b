/*
 * xml.h - reading the XML answers of S3 and STS with expat: the field
 * machinery both use, S3's error and upload answers, and a page of
 * ListMultipartUploads.  Nothing here prints, exits or allocates beyond
 * expat's parser.
 */
#ifndef MOMA_PUT_XML_H
#define MOMA_PUT_XML_H

#include <stddef.h>

#include <expat.h>

/*
 * Reading an XML answer (S3's, STS's) with expat: a parser's context
 * begins with a struct xml_field, where the start handler points the
 * character data (xml_field_at: dst of cap bytes, NUL-terminated,
 * truncated when longer) and the end handler stops it (field = NULL).
 * xml_run parses body (leading whitespace skipped) with the handlers
 * and ud: 0, or -1 if it is empty or not well-formed XML.
 */
struct xml_field {
	int depth;
	char *field;		/* NULL: nowhere */
	size_t cap, len;
};
void xml_field_at(struct xml_field *f, char *dst, size_t cap);
int xml_run(const char *body, size_t len, void *ud, XML_StartElementHandler start,
    XML_EndElementHandler end);

/* The fields of an S3 XML answer that moma-put reads. */
struct xml_answer {
	char root[64];		/* name of the document element */
	char code[64];		/* Error/Code */
	char message[256];	/* Error/Message */
	char upload_id[512];	/* InitiateMultipartUploadResult/UploadId */
	char etag[128];		/* CompleteMultipartUploadResult/ETag, unquoted */
};

/*
 * Parse an S3 answer of len bytes (leading whitespace, which S3 sends to
 * keep a long Complete alive, is skipped).  Returns 0, or -1 if the body
 * is empty or not well-formed XML; too-long fields are truncated.
 */
int xml_answer_parse(const char *body, size_t len, struct xml_answer *x);

/* One page of a ListMultipartUploads answer. */
#define XML_LIST_MAX 1000
struct xml_upload {
	char key[1100];
	char upload_id[512];
	char initiated[40];
};
struct xml_upload_list {
	struct xml_upload up[XML_LIST_MAX];
	int n;
	char truncated[8];		/* "true" when more pages follow */
	char next_key[1100], next_upload_id[512];
};

/* Parse a ListMultipartUploadsResult into l.  0, or -1 if not XML. */
int xml_uploads_parse(const char *body, size_t len, struct xml_upload_list *l);

#endif
