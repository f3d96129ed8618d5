class fuzz_1 { }
