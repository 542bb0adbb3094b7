r"""Grading for credit: the submission runs in a sandbox, the checks run outside it.

A submitted notebook is untrusted code.  :func:`grade_notebook` therefore splits
grading across two processes:

* the **sandboxed process** (:mod:`course_lib._grading_child`) runs the
  notebook's code cells, then only *evaluates*: it looks up the names the
  tests ask for, calls the student's functions on the inputs the tests send,
  reads attributes, and answers with plain data (numbers, arrays, strings,
  booleans, or a caught exception's type and message; see
  :mod:`course_lib.grading_wire` -- JSON, never pickle).  It never receives the
  checks or an expected value;
* the **grading process** (the caller) runs the tests of the autograder zip:
  every comparison, the points and the feedback.  No student code is ever
  loaded into it; the student's objects appear there only as handles
  (:class:`RemoteFunction`, :class:`RemoteObject`) whose use is a request to
  the sandbox, and results arrive as plain data.

The sandbox is `bubblewrap <https://github.com/containers/bubblewrap>`_
(``bwrap``, Debian package ``bubblewrap``): new user, PID, network, IPC and
UTS namespaces (no network at all), a read-only view of the system libraries,
of the Python environment and of the ``course_lib`` package only (not the
teacher's home, not the repository, not the other submissions), a private
``/tmp`` of limited size, and ``setrlimit`` limits on CPU time, address space
(memory), file size (which also caps the captured output) and core dumps; the
grading process enforces the wall-clock limit and kills the whole sandbox.
Without ``bwrap`` grading refuses (:class:`SandboxUnavailable`) unless
``unsafe_no_sandbox=True`` is passed, which keeps the two-process split and the
limits but not the file-system and network isolation.  The limits are set by
``prlimit`` (util-linux) when available, else in the forked process.
"""

from __future__ import annotations

import dataclasses
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from course_lib import grading_wire as wire

__all__ = [
    "SandboxUnavailable",
    "SandboxError",
    "Limits",
    "RemoteFunction",
    "RemoteObject",
    "Session",
    "sandbox_available",
    "current_session",
]

_COURSE_LIB = Path(__file__).resolve().parent
_local = threading.local()


class SandboxUnavailable(RuntimeError):
    """bubblewrap cannot run here; grading refuses unless the unsafe flag is given."""


class SandboxError(RuntimeError):
    """The sandboxed process stopped (time or memory limit, exit, crash) or answered nonsense."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """Limits of one sandboxed submission: wall-clock seconds (whole submission),
    CPU seconds, address space and written-file bytes (captured output included),
    size of the private ``/tmp``."""

    wall: float = 300.0
    cpu: float | None = None  # default: the wall-clock limit
    memory: int = 4 * 2**30
    output: int = 16 * 2**20
    tmp: int = 256 * 2**20


def current_session() -> "Session | None":
    """The sandbox session whose tests run in this thread, or ``None`` (e.g. in a student's kernel)."""
    return getattr(_local, "session", None)


# --------------------------------------------------------------------- sandbox command


def _bind_python_env() -> list[str]:
    """Read-only binds of the Python installation and environment, and of the course_lib package alone."""
    roots = []
    for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
              str(Path(sys.executable).resolve().parent.parent)}:
        if p and p != "/" and not p.startswith("/usr"):
            roots.append(os.path.realpath(p))
    args = []
    for p in sorted(set(roots)):
        args += ["--ro-bind", p, p]
        if Path(p).resolve() != Path(p):
            args += ["--ro-bind", str(Path(p).resolve()), str(Path(p).resolve())]
    args += ["--ro-bind", str(_COURSE_LIB), str(_COURSE_LIB)]
    return args


def _system_binds() -> list[str]:
    args = []
    for top in ("/usr", "/bin", "/lib", "/lib64", "/sbin", "/lib32", "/libx32"):
        p = Path(top)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), top]
        elif p.is_dir():
            args += ["--ro-bind", top, top]
    for etc in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf", "alternatives",
                "ssl", "fonts", "mime.types", "matplotlibrc"):
        args += ["--ro-bind-try", f"/etc/{etc}", f"/etc/{etc}"]
    return args


CACHE_MOUNT = "/jax-cache"  # where the compilation cache appears in the sandbox


def _env(cache: str | None = None) -> dict[str, str]:
    extra = {}
    if cache is not None:  # every compilation is worth caching: the entries are small, compiling is not
        extra = {"JAX_COMPILATION_CACHE_DIR": cache, "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
                 "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"}
    return extra | {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/mpl",
        "JAX_PLATFORMS": "cpu", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
        "TQDM_DISABLE": "1", "IPYTHONDIR": "/tmp/ipython",
    }


def sandbox_command(child: list[str], tmp_size: int, cache: tuple[str, bool] | None = None) -> list[str]:
    """The ``bwrap`` command line that runs ``child`` (a command) in the sandbox.

    ``cache = (host_folder, writable)`` binds a JAX compilation cache at
    :data:`CACHE_MOUNT`: read-only for submissions, writable only for the
    teacher's trusted warm-up notebook (:func:`course_lib.grading_batch.grade_submissions`).
    """
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (`bwrap`) is not installed")
    cmd = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--hostname", "grader",
           "--clearenv", "--proc", "/proc", "--dev", "/dev", "--size", str(int(tmp_size)), "--tmpfs", "/tmp",
           *_system_binds(), *_bind_python_env(), "--chdir", "/tmp"]  # binds after /tmp: they may live under it
    if cache is not None:
        cmd += ["--bind" if cache[1] else "--ro-bind", os.path.realpath(cache[0]), CACHE_MOUNT]
    if os.geteuid() == 0:
        cmd += ["--cap-drop", "ALL"]
    for k, v in _env(CACHE_MOUNT if cache is not None else None).items():
        cmd += ["--setenv", k, v]
    return cmd + ["--", *child]


_AVAILABLE: dict[bool, str] = {}


def sandbox_available() -> str:
    """``""`` if bubblewrap can run a sandboxed Python here, else the reason why not (cached)."""
    if True not in _AVAILABLE:
        try:
            probe = f"import sys; sys.path.insert(0, {str(_COURSE_LIB.parent)!r}); import course_lib.grading_wire; print('ok')"
            cmd = sandbox_command([sys.executable, "-I", "-c", probe], 2**20)
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
            _AVAILABLE[True] = "" if out.stdout.strip() == "ok" else f"bwrap failed: {(out.stderr or out.stdout).strip()[:300]}"
        except SandboxUnavailable as exc:
            _AVAILABLE[True] = str(exc)
        except (OSError, subprocess.SubprocessError) as exc:
            _AVAILABLE[True] = f"bwrap failed: {exc}"
    return _AVAILABLE[True]


# --------------------------------------------------------------------- session


class Session:
    """One sandboxed process running one submission, and the request/answer protocol with it.

    Use as a context manager: ``with Session(cells, limits) as s: s.lookup("f")``.
    ``sandbox=False`` runs the child without bubblewrap (limits still apply).

    ``Session(None, ...)`` starts the process *ahead of time*: it imports NumPy,
    JAX, IPython and ``course_lib`` and then waits for its notebook, which
    :meth:`start` sends (the wall-clock limit counts from then).  A session
    still runs exactly one submission: a pre-started process is never reused.
    ``cache`` is a JAX compilation-cache folder of the host, bound read-only
    (``cache_writable`` only for a trusted notebook, never a submission).
    """

    def __init__(self, cells: list[str] | None = None, limits: Limits = Limits(), *, sandbox: bool = True,
                 log_path: str | None = None, cache: str | None = None, cache_writable: bool = False):
        self.limits = limits
        self.deadline = math.inf
        self._seq = 0
        self._names: dict[str, Any] = {}
        self.cell_errors: list[str] = []
        self.died: str = ""
        self.started = False
        self.cpu_seconds = 0.0  # CPU time of the sandbox's processes, measured from the host when closing
        req_r, self._req_w = os.pipe()
        self._ans_r, ans_w = os.pipe()
        # -I: no user site, no PYTHON* variables, no current folder; course_lib from the bound folder
        boot = (f"import sys; sys.path.insert(0, {str(_COURSE_LIB.parent)!r}); "
                f"from course_lib._grading_child import run; run(sys.argv[1:])")
        child = [sys.executable, "-I", "-c", boot, str(req_r), str(ans_w)]
        if sandbox:
            cmd = sandbox_command(child, limits.tmp, None if cache is None else (cache, cache_writable))
            env = _env()
        else:
            cmd = child
            env = dict(_env(cache), HOME=tempfile.gettempdir(), TMPDIR=tempfile.gettempdir(),
                       MPLCONFIGDIR=tempfile.mkdtemp(prefix="mpl-"))
        self._log_path = log_path or os.devnull
        cpu = int(limits.cpu if limits.cpu is not None else limits.wall) + 1
        mem, out = int(limits.memory), int(limits.output)

        def rlimits() -> None:  # runs in the forked child before exec
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
            resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
            resource.setrlimit(resource.RLIMIT_FSIZE, (out, out))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

        prlimit = shutil.which("prlimit")  # util-linux: sets the limits without Python code after fork()
        if prlimit:
            cmd = [prlimit, f"--cpu={cpu}:{cpu + 1}", f"--as={mem}", f"--fsize={out}", "--core=0", "--", *cmd]
        with open(self._log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         pass_fds=(req_r, ans_w), env=env, preexec_fn=None if prlimit else rlimits,
                                         start_new_session=True, cwd=tempfile.gettempdir())
        os.close(req_r)
        os.close(ans_w)
        if cells is not None:
            self.start(cells)

    def start(self, cells: list[str]) -> "Session":
        """Send the notebook's code cells and wait until they ran; the wall-clock limit starts now.

        Raises :class:`SandboxError` (and closes the session) if the process stopped.
        """
        if self.started:
            raise RuntimeError("a session runs one notebook only")
        self.started = True
        self.deadline = time.monotonic() + self.limits.wall
        try:
            try:
                wire.write_frame(self._req_w, {"op": "run", "seq": 0, "cells": list(cells)})
            except OSError:
                raise self._stopped("did not start") from None
            first = self._receive(0)
            self.cell_errors = list(first.get("cell_errors", [])) if isinstance(first, dict) else []
        except SandboxError:
            self.close()
            raise
        return self

    # -- protocol
    def _stopped(self, why: str) -> SandboxError:
        if not self.died:
            code = self.proc.poll()
            if why == "timeout":
                self.died = f"time limit of {self.limits.wall:g} s exceeded"
            elif code is not None and code < 0 and -code == signal.SIGXCPU:
                self.died = "CPU time limit exceeded"
            elif code is not None and code < 0 and -code == signal.SIGXFSZ:
                self.died = f"output limit of {self.limits.output // 2**20} MiB exceeded"
            elif code is not None and code != 0:
                self.died = f"the submission's process ended (exit code {code}; out of memory, a crash, or exit())"
            else:
                self.died = f"the submission's process stopped answering ({why})"
            self.close()
        return SandboxError(self.died)

    def _receive(self, seq: int) -> Any:
        try:
            msg = wire.read_frame(self._ans_r, self.deadline, raw=True)
        except TimeoutError:
            raise self._stopped("timeout") from None
        except EOFError:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            raise self._stopped("end of output") from None
        except wire.WireError as exc:
            raise self._stopped(str(exc)) from None
        if not isinstance(msg, dict) or msg.get("seq") != seq:
            raise self._stopped("an answer out of order")
        if msg.get("undefined"):
            return _UNDEFINED
        if "fail" in msg:
            raise SandboxError(str(msg["fail"])[:300])
        try:
            return wire.decode(msg.get("value"))
        except wire.WireError as exc:
            raise self._stopped(str(exc)) from None

    def request(self, op: str, **fields: Any) -> Any:
        """Send one request; return the decoded answer (handles wrapped as Remote*)."""
        if self.died:
            raise SandboxError(self.died)
        self._seq += 1
        try:
            wire.write_frame(self._req_w, {"op": op, "seq": self._seq, **fields})
        except (BrokenPipeError, OSError):
            raise self._stopped("closed its input") from None
        return self._wrap(self._receive(self._seq))

    def _wrap(self, value: Any) -> Any:
        if isinstance(value, wire.Ref):
            return (RemoteFunction if value.kind == "function" else RemoteObject)(self, value)
        if type(value) is list:
            return [self._wrap(v) for v in value]
        if type(value) is tuple:
            return tuple(self._wrap(v) for v in value)
        if type(value) is dict:
            return {k: self._wrap(v) for k, v in value.items()}
        return value

    def lookup(self, name: str) -> Any:
        """The student's global ``name``: plain data, a handle, or ``None`` if undefined."""
        if name not in self._names:
            value = self.request("get", name=name)
            self._names[name] = None if value is _UNDEFINED else value
        return self._names[name]

    def send(self, value: Any) -> Any:
        """Plain-data form of an input for the sandbox (handles become references)."""
        def ref(obj: Any) -> dict:
            if isinstance(obj, _Remote):
                if obj._session is not self:
                    raise ValueError("a handle of another submission")
                return {"$": "ref", "id": obj._ref.id, "kind": obj._ref.kind, "type": "", "name": ""}
            raise TypeError(
                f"cannot send a {type(obj).__name__} to the submission: tests may pass numbers, arrays, PRNG keys, "
                f"strings, lists, tuples, dicts and the student's own objects; build other inputs inside a probe "
                f"(course_lib.grading.probe)")
        return wire.encode(value, ref)

    def close(self) -> None:
        if self._req_w < 0:
            return
        self.cpu_seconds = max(self.cpu_seconds, _tree_cpu(self.proc.pid))
        if self.proc.poll() is None:
            try:
                wire.write_frame(self._req_w, {"op": "exit", "seq": -1})
            except OSError:
                pass
            try:  # a clean exit lets bubblewrap reap the child (and count its CPU time)
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        for fd in (self._req_w, self._ans_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self._req_w = self._ans_r = -1

    def __enter__(self) -> "Session":
        _local.session = self
        return self

    def __exit__(self, *exc: Any) -> None:
        _local.session = None
        self.close()


_UNDEFINED = object()


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system, reaped children included) of ``pid`` and its descendants, read from ``/proc``."""
    total, todo, seen = 0.0, [pid], set()
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            total += sum(int(f) for f in fields[11:15]) / tick  # utime stime cutime cstime
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


class _Remote:
    """A student's object that stays in the sandbox; using it sends a request."""

    __slots__ = ("_session", "_ref")

    def __init__(self, session: Session, ref: wire.Ref):
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_ref", ref)

    @property
    def type_name(self) -> str:
        return self._ref.type_name

    def __repr__(self) -> str:
        return repr(self._ref)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _unwrap_error(self._session.request("getattr", ref=self._ref.id, attr=attr), f"reading `.{attr}`")

    def __getitem__(self, key: Any) -> Any:
        return _unwrap_error(self._session.request("getitem", ref=self._ref.id, key=self._session.send(key)), "indexing")

    def __len__(self) -> int:
        n = _unwrap_error(self._session.request("len", ref=self._ref.id), "len()")
        if not isinstance(n, int) or n < 0:
            raise TypeError("len() of the student's object is not a non-negative int")
        return n

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        arr = _unwrap_error(self._session.request("asarray", ref=self._ref.id), "converting to an array")
        if not isinstance(arr, np.ndarray):
            arr = np.asarray(arr, dtype=float)
        return arr.astype(dtype) if dtype is not None else arr

    def __float__(self) -> float:
        arr = self.__array__()
        if arr.size != 1:
            raise TypeError("only one-element arrays can be converted to float")
        return float(arr.reshape(-1)[0])

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError("the student's objects are read-only during grading")


class RemoteFunction(_Remote):
    """A student's callable; calling it evaluates it in the sandbox on the given inputs."""

    __slots__ = ()

    @property
    def __name__(self) -> str:  # type: ignore[override]
        return self._ref.name or "your function"

    def remote_call(self, args: tuple, kwargs: dict) -> Any:
        """Result of ``fn(*args, **kwargs)`` in the sandbox, or a :class:`course_lib.grading_wire.RemoteException`."""
        s = self._session
        return s.request("call", ref=self._ref.id, args=s.send(list(args)), kwargs=s.send(dict(kwargs)))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _unwrap_error(self.remote_call(args, kwargs), f"calling `{self.__name__}`")


class RemoteObject(_Remote):
    """A student's non-callable object that is not plain data (e.g. a dataclass)."""

    __slots__ = ()


def _unwrap_error(value: Any, what: str) -> Any:
    if isinstance(value, wire.RemoteException):
        from course_lib.grading import GradingError

        line = f" (in your line `{value.line}`)" if value.line else ""
        raise GradingError(f"{what} raised {value.type_name}: {value.message}{line}")
    return value


def run_probe(session: Session, fn: Any, args: tuple, kwargs: dict) -> Any:
    """Run the probe ``fn`` (see :func:`course_lib.grading.probe`) in the sandbox; plain data or RemoteException."""
    source, name = fn.__grading_probe__
    return session.request("probe", source=source, name=name, args=session.send(list(args)),
                           kwargs=session.send(dict(kwargs)))
