class yaml_tab_indent { }
