class goss_file_escapes { }
