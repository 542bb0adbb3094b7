"""The sandboxed side of grading: run a submitted notebook, then answer evaluation requests.

Started by :mod:`course_lib.grading_sandbox` inside the sandbox as
``python -I -c '...run(sys.argv[1:])' REQUEST_FD ANSWER_FD``.  It reads the
notebook's code cells from the request pipe, runs them in one IPython
namespace (an error in a cell is printed and the next cell runs, as in Jupyter),
then answers requests -- look up a name, call a function on given inputs, read
an attribute, convert to an array, run a probe -- with plain data
(:mod:`course_lib.grading_wire`).  It never receives expected values or the
checks; everything it computes is untrusted by the grader.
"""

from __future__ import annotations

import builtins
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from course_lib.grading_wire import Ref, decode, encode, read_frame, write_frame

_HERE = str(Path(__file__).resolve().parent)
_table: list[Any] = []


def _make_ref(obj: Any) -> dict:
    _table.append(obj)
    name = getattr(obj, "__name__", "") if callable(obj) else ""
    return {"$": "ref", "id": len(_table) - 1, "kind": "function" if callable(obj) else "object",
            "type": type(obj).__name__, "name": name if isinstance(name, str) else ""}


def _resolve(value: Any) -> Any:
    if isinstance(value, Ref):
        return _table[value.id]
    if type(value) is list:
        return [_resolve(v) for v in value]
    if type(value) is tuple:
        return tuple(_resolve(v) for v in value)
    if type(value) is dict:
        return {k: _resolve(v) for k, v in value.items()}
    return value


def _exc(exc: BaseException) -> dict:
    text = str(exc).strip()
    message = text.splitlines()[0] if text else "(no message)"
    line = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        fn = frame.filename or ""
        if "site-packages" in fn or fn.startswith(_HERE) or fn.startswith("<frozen") or not frame.line:
            continue
        line = frame.line.strip()
        break
    return {"$": "exc", "type": type(exc).__name__, "message": message[:300], "line": line[:300]}


def _answer(fn, *args, **kwargs) -> Any:
    try:
        result = fn(*args, **kwargs)
    except BaseException as exc:  # the student's code may raise anything, SystemExit included
        return _exc(exc)
    try:
        return encode(result, _make_ref)
    except BaseException as exc:
        return _exc(exc)


def _run_cells(cells: list[str]) -> tuple[dict, list[str]]:
    try:
        from IPython.core.interactiveshell import InteractiveShell

        shell = InteractiveShell.instance()
        shell.display_formatter.active_types = ["text/plain"]
        ns = shell.user_ns
        run = lambda src: shell.run_cell(src, store_history=False).error_in_exec  # noqa: E731
    except ImportError:  # plain Python cells only
        ns = {"__name__": "__main__", "__builtins__": builtins}

        def run(src):
            try:
                exec(compile(src, "<cell>", "exec"), ns)
            except BaseException as exc:
                traceback.print_exc()
                return exc
    errors = []
    for i, src in enumerate(cells):
        try:
            err = run(src)
        except BaseException as exc:  # SystemExit, KeyboardInterrupt raised through IPython
            err = exc
        if err is not None:
            errors.append(f"cell {i + 1}: {type(err).__name__}: {str(err).strip()[:200]}")
        sys.stdout.flush()
    return ns, errors


def _warm_up() -> Any:
    """Import what every course notebook needs while the process waits for its notebook.

    Runs before any submitted code exists in this process (the grader may start
    it ahead of time); returns IPython's shell, or ``None`` without IPython.
    """
    try:
        import jax
        import jax.numpy  # noqa: F401

        import course_lib  # noqa: F401  (its light modules: landscapes, noise, simulate)

        jax.devices()  # create the CPU backend
    except Exception:  # noqa: BLE001  (a notebook that needs them will say why)
        pass
    try:
        from IPython.core.interactiveshell import InteractiveShell

        shell = InteractiveShell.instance()
        shell.display_formatter.active_types = ["text/plain"]
        return shell
    except ImportError:
        return None


def main(argv: list[str]) -> int:
    req, ans = int(argv[0]), int(argv[1])
    _warm_up()
    first = read_frame(req, raw=True)
    ns, errors = _run_cells([str(c) for c in first.get("cells", [])])
    write_frame(ans, {"seq": 0, "value": {"$": "dict", "items": [["cell_errors", [str(e) for e in errors]]]}})
    while True:
        msg = read_frame(req, raw=True)
        op, seq = msg.get("op"), msg.get("seq")
        out: dict[str, Any] = {"seq": seq}
        if op == "exit":
            break
        if op == "get":
            name = msg.get("name")
            if name in ns:
                out["value"] = _answer(lambda: ns[name])
            else:
                out["undefined"] = True
        elif op == "call":
            fn = _table[msg["ref"]]
            args, kwargs = _resolve(decode(msg.get("args", []))), _resolve(decode(msg.get("kwargs", {"$": "dict", "items": []})))
            out["value"] = _answer(fn, *args, **kwargs)
        elif op == "getattr":
            out["value"] = _answer(getattr, _table[msg["ref"]], str(msg["attr"]))
        elif op == "getitem":
            out["value"] = _answer(lambda o, k: o[k], _table[msg["ref"]], _resolve(decode(msg["key"])))
        elif op == "len":
            out["value"] = _answer(len, _table[msg["ref"]])
        elif op == "asarray":
            import numpy as np

            out["value"] = _answer(lambda o: np.array(np.asarray(o, dtype=float)), _table[msg["ref"]])
        elif op == "probe":
            env = {"__builtins__": builtins, "__name__": "probe"}
            try:
                exec(compile(str(msg["source"]), "<probe>", "exec"), env)
                probe = env[str(msg["name"])]
            except BaseException as exc:
                out["value"] = _exc(exc)
            else:
                args, kwargs = _resolve(decode(msg.get("args", []))), _resolve(decode(msg.get("kwargs", {"$": "dict", "items": []})))
                out["value"] = _answer(probe, *args, **kwargs)
        else:
            out["fail"] = f"unknown request {op!r}"
        sys.stdout.flush()
        write_frame(ans, out)
    return 0


def run(argv: list[str]) -> None:
    """Entry point in the sandbox: answer requests until told to stop, then exit without cleanup hooks."""
    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run(sys.argv[1:])
