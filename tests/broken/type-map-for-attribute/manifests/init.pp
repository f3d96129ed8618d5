class type_map_for_attribute { }
