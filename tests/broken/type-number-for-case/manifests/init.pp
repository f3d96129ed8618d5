class type_number_for_case { }
