# moma-put: libcurl (SigV4 signing, HTTP), expat (S3 and STS XML answers),
# libcrypto (MD5 for Content-MD5 and ETags, SHA-256 of small bodies),
# jansson (container, instance metadata and credential_process JSON).
moma-put_PKGS = libcurl expat libcrypto jansson
moma-put_LIBS = -lpthread
