class empty_cases { }
