moma-splice_PKGS =
