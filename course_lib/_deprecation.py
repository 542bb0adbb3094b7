"""Deprecated aliases: how a renamed public name keeps working.

The public API is a promise to readers whose notebooks import it.  When a
public name is renamed, the module keeps the old name as an alias that warns::

    # in course_lib/landscapes.py, after renaming `three_humps` to `three_hump_camel`
    __getattr__ = deprecated_aliases(__name__, {"three_humps": ("three_hump_camel", "0.3")})

Accessing ``course_lib.landscapes.three_humps`` then returns the new object
and issues a :class:`DeprecationWarning` naming the replacement and the version
in which the rename happened.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any, Callable, Mapping

__all__ = ["deprecated_aliases"]


def deprecated_aliases(module: str, aliases: Mapping[str, tuple[str, str]]) -> Callable[[str], Any]:
    """Return a module ``__getattr__`` resolving ``old -> (new, since_version)`` with a warning."""
    for old, value in aliases.items():
        if not (isinstance(value, tuple) and len(value) == 2):
            raise ValueError(f"aliases[{old!r}] must be a (new_name, since_version) pair, got {value!r}")

    def __getattr__(name: str) -> Any:
        if name in aliases:
            new, since = aliases[name]
            warnings.warn(
                f"{module}.{name} was renamed {module}.{new} in course_lib {since}; "
                f"the old name still works but will be removed in a future major release.",
                DeprecationWarning,
                stacklevel=2,
            )
            return getattr(sys.modules[module], new)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
