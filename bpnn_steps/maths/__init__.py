"""The maths: activation and loss records, the step engine, exact and symbolic
calculation, training and its compiled kernel."""
