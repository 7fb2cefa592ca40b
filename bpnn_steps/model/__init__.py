"""The data model: a problem, the trace of its calculation, the lecture's notation."""
