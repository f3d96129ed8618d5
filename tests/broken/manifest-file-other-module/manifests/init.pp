class manifest_file_other_module { }
