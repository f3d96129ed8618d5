class fixture_escapes { }
