moma-dump_PKGS = jansson bitstream
