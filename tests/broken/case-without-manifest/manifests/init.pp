class case_without_manifest { }
