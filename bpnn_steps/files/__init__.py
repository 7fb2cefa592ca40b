"""Reading and writing files: problem files, answer files, safe output."""
