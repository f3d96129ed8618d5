class type_list_for_manifest { }
