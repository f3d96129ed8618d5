class yaml_unclosed_flow { }
