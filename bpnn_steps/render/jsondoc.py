"""JSON: a document's data (the trace, the derivation's entries) as plain JSON."""

from __future__ import annotations

import json

from ..errors import ProblemError
from ..present.blocks import Document


class JsonRenderer:
    name = "json"
    suffix = ".json"
    standalone = False

    def render(self, document: Document, decimals: int) -> str:
        del decimals     # JSON carries full double precision
        if document.data is None:
            raise ProblemError(f"{document.title}: has no JSON form")
        compact = document.json_indent is None
        # allow_nan=False: no value is inf/nan, and JSON has no literal for them.
        return json.dumps(document.data(), indent=document.json_indent, allow_nan=False,
                          ensure_ascii=compact)
