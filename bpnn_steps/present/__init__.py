"""Content: the worked solution, sheets and derivations as format-neutral blocks."""
