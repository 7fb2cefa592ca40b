"""Records: immutable values whose every part is required.

The activation and loss records (:mod:`.activations`, :mod:`.losses`) are Records:
:class:`~bpnn_steps.model.value.Value` types (cheap to define, type-checked by
mypy as frozen dataclasses) that refuse a part left out, unknown or given as
None at once, so an incomplete record is an error, never a fallback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import ClassVar, Generic, TypeVar

from ..model.value import Value


class Record(Value):
    """Base of the record types; a subclass declares its parts as annotations."""

    __slots__ = ()
    _noun: ClassVar[str] = "part"
    _none_allowed: ClassVar[bool] = False


_T = TypeVar("_T")


class Registry(Mapping[str, _T], Generic[_T]):
    """Records by name; an unknown name is a clear error, never a fallback."""

    def __init__(self, kind: str, records: Sequence[_T], name: Callable[[_T], str]) -> None:
        self.kind = kind
        self._records = {name(r): r for r in records}

    def __getitem__(self, key: str) -> _T:
        try:
            return self._records[key]
        except (KeyError, TypeError):
            raise KeyError(f"unknown {self.kind} {key!r}; expected one of "
                           f"{', '.join(self._records)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)
