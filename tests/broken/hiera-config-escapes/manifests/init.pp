class hiera_config_escapes { }
