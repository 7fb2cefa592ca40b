"""Marking a student's hand calculation: tolerances, follow-through, diagnosis."""
