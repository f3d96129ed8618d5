class unknown_attribute { }
