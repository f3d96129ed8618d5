class goss_unknown_attribute { }
