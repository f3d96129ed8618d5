class fixtures_yml_bad_yaml { }
