class duplicate_case_names { }
