class fuzz_2 { }
