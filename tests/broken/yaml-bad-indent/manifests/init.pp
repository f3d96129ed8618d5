class yaml_bad_indent { }
