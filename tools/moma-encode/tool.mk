moma-encode_PKGS = bitstream
