"""Enums of codes with words: a diagnosed mistake, a rejected variant's reason."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Coded(StrEnum):
    """A member is its short code (what JSON, gradebooks and ``--explain`` print)
    and carries a description in words: ``NAME = "code", "description"``."""

    description: str

    def __new__(cls, code: str, description: str) -> Any:
        member = str.__new__(cls, code)
        member._value_ = code
        member.description = description
        return member
