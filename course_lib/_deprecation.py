"""Deprecated aliases: how a renamed public name keeps working.

The public API is a promise to readers whose notebooks import it.  When a
public name is renamed, the module keeps the old name as an alias that warns::

    # in course_lib/landscapes.py, after renaming `three_humps` to `three_hump_camel`
    __getattr__ = deprecated_aliases(__name__, {"three_humps": ("three_hump_camel", "0.3")})

Accessing ``course_lib.landscapes.three_humps`` then returns the new object
and issues a :class:`DeprecationWarning` naming the replacement and the version
in which the rename happened.

A name that *moved* to another module is written ``"package.module:name"``::

    # in course_lib/ode.py, after moving `tracking_study` to the chapter layer
    __getattr__ = deprecated_aliases(__name__, {"tracking_study": ("course_lib.chapters.ode:tracking_study", "0.2")})
"""

from __future__ import annotations

import importlib
import sys
import warnings
from typing import Any, Callable, Mapping

__all__ = ["deprecated_aliases"]


def deprecated_aliases(module: str, aliases: Mapping[str, tuple[str, str]]) -> Callable[[str], Any]:
    """Return a module ``__getattr__`` resolving ``old -> (new, since_version)`` with a warning.

    ``new`` is a name of the same module, or ``"package.module:name"`` for a name that moved.
    """
    for old, value in aliases.items():
        if not (isinstance(value, tuple) and len(value) == 2):
            raise ValueError(f"aliases[{old!r}] must be a (new_name, since_version) pair, got {value!r}")

    def __getattr__(name: str) -> Any:
        if name in aliases:
            new, since = aliases[name]
            target_module, _, target = new.rpartition(":")
            if target_module:
                verb, where = "moved to", f"{target_module}.{target}"
            else:
                target_module, verb, where = module, "was renamed", f"{module}.{target}"
            warnings.warn(
                f"{module}.{name} {verb} {where} in course_lib {since}; "
                f"the old name still works but will be removed in a future major release.",
                DeprecationWarning,
                stacklevel=2,
            )
            mod = sys.modules.get(target_module) or importlib.import_module(target_module)
            return getattr(mod, target)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
