class top_level_scalar { }
