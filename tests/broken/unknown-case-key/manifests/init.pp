class unknown_case_key { }
