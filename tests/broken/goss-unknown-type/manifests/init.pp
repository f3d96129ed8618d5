class goss_unknown_type { }
