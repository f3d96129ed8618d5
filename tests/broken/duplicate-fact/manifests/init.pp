class duplicate_fact { }
