class yaml_unclosed_quote { }
