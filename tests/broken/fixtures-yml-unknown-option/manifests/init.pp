class fixtures_yml_unknown_option { }
