class fixtures_yml_ruby { }
