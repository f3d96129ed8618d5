class type_string_for_list { }
