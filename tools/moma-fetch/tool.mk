moma-fetch_PKGS = libpq
