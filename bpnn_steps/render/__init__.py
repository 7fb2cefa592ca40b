"""Renderers: each writes the blocks of :mod:`bpnn_steps.report` (or the trace
itself, for JSON) in one output format."""
