class manifest_file_absolute { }
