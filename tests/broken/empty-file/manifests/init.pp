class empty_file { }
