class unknown_top_key { }
