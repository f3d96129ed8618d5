class manifest_file_escapes { }
