class duplicate_check_attribute { }
