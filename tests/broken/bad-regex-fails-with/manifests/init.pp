class bad_regex_fails_with { }
