# moma-put: libcurl (SigV4 signing, HTTP), expat (S3 XML answers),
# libcrypto (MD5 for Content-MD5 and ETags, SHA-256 of small bodies).
moma-put_PKGS = libcurl expat libcrypto
moma-put_LIBS = -lpthread
