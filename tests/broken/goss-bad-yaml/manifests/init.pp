class goss_bad_yaml { }
