class top_level_list { }
