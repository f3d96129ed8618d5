class only_a_comment { }
