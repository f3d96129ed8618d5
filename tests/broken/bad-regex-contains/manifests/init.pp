class bad_regex_contains { }
