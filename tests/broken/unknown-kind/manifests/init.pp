class unknown_kind { }
