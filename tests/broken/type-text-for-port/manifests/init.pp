class type_text_for_port { }
