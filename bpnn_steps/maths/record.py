"""Records: immutable objects whose every part is required, cheap to define.

The activation and loss records (:mod:`.activations`, :mod:`.losses`) are Records.
A frozen dataclass would hold the same, but defining one costs about 1.2 ms at
import (it compiles its generated methods) and a NamedTuple about 0.4 ms, while
``solve`` imports ten record types; a Record type costs about 0.02 ms, because one
``__init__`` serves them all, reading each type's part names from its annotations
(which stay unevaluated strings).

For mypy a Record type is a frozen dataclass (``typing.dataclass_transform``), so
every construction is checked against the annotations.  At run time a part that is
left out, given as None or unknown is a TypeError at once: an incomplete record is
refused, never a fallback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import FrozenInstanceError
from typing import ClassVar, Generic, Self, TypeVar, dataclass_transform


@dataclass_transform(frozen_default=True)
class Record:
    """Base of the record types; a subclass declares its parts as annotations."""

    _fields: ClassVar[tuple[str, ...]] = ()     # the parts, in order

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        own = cls.__dict__.get("__annotations__", {})
        cls._fields = cls._fields + tuple(name for name, note in own.items()
                                          if not str(note).startswith("ClassVar"))

    def __init__(self, *args: object, **parts: object) -> None:
        kind = type(self).__name__
        fields = self._fields
        if len(args) > len(fields):
            raise TypeError(f"{kind} has {len(fields)} parts, got {len(args)}")
        for field, value in zip(fields, args):
            if field in parts:
                raise TypeError(f"{kind}: part {field!r} given twice")
            parts[field] = value
        unknown = [name for name in parts if name not in fields]
        if unknown:
            raise TypeError(f"{kind} has no part {', '.join(map(repr, unknown))}")
        for field in fields:
            value = parts.get(field)
            if value is None:
                raise TypeError(f"{kind} {parts.get('name', '')!r}: part {field!r} is missing")
            object.__setattr__(self, field, value)

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, field) for field in self._fields)

    def _replace(self, **changes: object) -> Self:
        """A copy with some parts replaced (checked like any new record)."""
        return type(self)(**{**dict(zip(self._fields, self._values())), **changes})

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to part {name!r} of a {type(self).__name__}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete part {name!r} of a {type(self).__name__}")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self) or not isinstance(other, Record):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        parts = ", ".join(f"{f}={v!r}" for f, v in zip(self._fields, self._values()))
        return f"{type(self).__name__}({parts})"


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
