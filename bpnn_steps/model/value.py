"""Small immutable value types that cost next to nothing to define.

The notation tokens and content blocks are dozens of small types, and ``solve``
imports them all at start-up.  A frozen dataclass costs about 1.2 ms to define
(it compiles its generated methods) and a NamedTuple about 0.3 ms; a
:class:`Value` type about 0.02 ms, because one ``__new__`` serves them all.  A
value is a tuple of its fields (read through properties), equal only to a value
of the same type with equal fields, and hashable when its fields are.

For mypy a Value type is a frozen dataclass (``typing.dataclass_transform``), so
every construction is checked against the annotations.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, ClassVar, Self, dataclass_transform


@dataclass_transform(frozen_default=True)
class Value(tuple):  # type: ignore[type-arg]  # its items are the subclass's fields
    """Base of the value types; a subclass declares its fields as annotations, with
    defaults as class attributes."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}
    _noun: ClassVar[str] = "field"          # what messages call a field
    _none_allowed: ClassVar[bool] = True    # False: a field given as None is missing
    _tail: ClassVar[tuple[Any, ...]] = ()    # defaults of the last fields, in order

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        own = [name for name, note in cls.__dict__.get("__annotations__", {}).items()
               if not str(note).startswith("ClassVar")]
        defaults = dict(cls._defaults)
        for name in own:
            if name in cls.__dict__:
                defaults[name] = cls.__dict__[name]
        cls._fields = cls._fields + tuple(own)
        cls._defaults = defaults
        tail: list[Any] = []
        for name in reversed(cls._fields):
            if name not in defaults:
                break
            tail.insert(0, defaults[name])
        cls._tail = tuple(tail)
        for index, name in enumerate(cls._fields):
            setattr(cls, name, property(itemgetter(index)))

    def __new__(cls, *args: Any, **fields: Any) -> Self:
        # The common case, fields given in order and the rest left at their
        # defaults, in a few steps: a worked solution makes 100,000s of tokens.
        missing = len(cls._fields) - len(args)
        if not fields and cls._none_allowed and 0 <= missing <= len(cls._tail):
            return tuple.__new__(cls, args + cls._tail[len(cls._tail) - missing:])
        names, noun = cls._fields, cls._noun
        if len(args) > len(names):
            raise TypeError(f"{cls.__name__} has {len(names)} {noun}s, got {len(args)}")
        if fields:
            unknown = sorted(set(fields) - set(names))
            if unknown:
                raise TypeError(f"{cls.__name__} has no {noun} "
                                f"{', '.join(map(repr, unknown))}")
        values = list(args)
        for name in names[len(args):]:
            if name in fields:
                values.append(fields[name])
            elif name in cls._defaults:
                values.append(cls._defaults[name])
            else:
                raise TypeError(f"{cls.__name__}: {noun} {name!r} is missing")
        if not cls._none_allowed:
            for name, value in zip(names, values):
                if value is None:
                    raise TypeError(f"{cls.__name__}: {noun} {name!r} is missing")
        return tuple.__new__(cls, values)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = tuple.__hash__

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
        return f"{type(self).__name__}({fields})"

    def _replace(self, **changes: Any) -> Self:
        return type(self)(**{**dict(zip(self._fields, self)), **changes})
