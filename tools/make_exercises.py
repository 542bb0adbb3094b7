"""Generate the exercise notebooks, their solutions and autograders from the masters.

One source of truth per exercise: the otter-assign master notebook
``exercises/source/<name>.ipynb``.  This script runs ``otter assign`` on every
master and writes, for each ``<name>``:

* ``exercises/<name>.ipynb`` -- the student notebook (solutions replaced by ``...``,
  ``grader.check("qN")`` cells for self-checks);
* ``exercises/tests/<name>/qN.py`` -- the public tests those self-checks run;
* ``exercises/autograder/<name>-autograder.zip`` -- public *and* hidden tests,
  for ``otter run`` / ``python -m course_lib.grading``; self-contained for otter's
  one-container-per-submission grading (Gradescope, ``otter grade``): its
  ``environment.yml`` pins Python and every package ``course_lib`` and otter need
  (the versions of ``pyproject.toml`` and ``constraints.txt``), and it ships the
  ``course_lib`` sources as support files (``files/course_lib/``, which otter
  copies next to the submission before running it);
* ``solutions/<name>.ipynb`` -- the solved notebook for the book, every solution
  cell tagged ``hide-input`` (shown folded).

The output is deterministic (fixed cell ids, fixed zip timestamps), so that
``--check`` can regenerate into a temporary folder and compare.

Usage::

    python tools/make_exercises.py            # regenerate (runs the hidden tests on the solutions)
    python tools/make_exercises.py --check    # exit 1 if the committed copies are stale
    python tools/make_exercises.py --out DIR  # write under DIR instead of the repository
    python tools/make_exercises.py --no-run-tests  # faster: skip grading the solutions
    python tools/make_exercises.py two_pillars     # only the named exercise(s)
    python tools/make_exercises.py --handout two_pillars  # handout/two_pillars.zip for students
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import filecmp
import importlib.metadata
import io
import logging
import re
import shutil
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

import nbformat
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
SOURCE = Path("exercises") / "source"
ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed timestamp of every zip entry

OTTER_TAGS = {"otter_answer_cell", "otter_assign_solution_cell"}
EXERCISE_ONLY, SOLUTION_ONLY = "exercise-only", "solution-only"


def _constraints(root: Path = ROOT) -> dict[str, tuple[str, str]]:
    """``constraints.txt`` as ``{canonical name: (name as written, version)}``."""
    pins = {}
    for line in (root / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[canonicalize_name(name)] = (name.strip(), version.strip())
    return pins


# The grading image (Gradescope, otter's Docker grading): Linux on x86-64, CPython.
GRADING_PLATFORM = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
                    "platform_machine": "x86_64", "implementation_name": "cpython",
                    "platform_python_implementation": "CPython"}


def _marker_holds(marker: Marker | None, extras: set[str], python: str) -> bool:
    if marker is None:
        return True
    env = {**GRADING_PLATFORM, "python_version": python, "python_full_version": f"{python}.0"}
    return any(marker.evaluate({**env, "extra": e}) for e in (extras or {""}))


def grading_requirements(root: Path = ROOT) -> list[str]:
    """The pip requirements of the autograder zips: ``course_lib``'s runtime closure, pinned.

    Starts from the runtime ``dependencies`` of ``pyproject.toml`` (exact pins)
    and otter's own grading extras (``otter-grader[grading,plugins]``, which
    ``otter generate`` always puts first in the zip's ``environment.yml``),
    follows their requirements through the installed packages' metadata
    (markers evaluated for the grading image: Linux x86-64 with the Python of
    ``pyproject.toml``), and pins every package found in ``constraints.txt`` at its
    version there.  otter-grader itself is left out (otter adds it).  Sorted
    ``name==version`` lines.  Raises ``ValueError`` if a runtime dependency of
    ``pyproject.toml`` disagrees with ``constraints.txt``.
    """
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = _constraints(root)
    todo = [Requirement(d) for d in project["dependencies"]] + [Requirement("otter-grader[grading,plugins]")]
    for req in todo[:-1]:
        pinned = pins.get(canonicalize_name(req.name))
        if pinned is None or str(req.specifier) != f"=={pinned[1]}":
            raise ValueError(f"pyproject.toml pins {req} but constraints.txt has {pinned}")
    python = _python_version(root)
    seen: dict[str, set[str]] = {}
    while todo:
        req = todo.pop()
        key = canonicalize_name(req.name)
        extras = set(req.extras)
        if key in seen and extras <= seen[key]:
            continue
        seen[key] = seen.get(key, set()) | extras
        try:
            requires = importlib.metadata.requires(req.name) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here (e.g. otter's optional Google Sheets plugin): left to pip
        for line in requires:
            child = Requirement(line)
            if _marker_holds(child.marker, seen[key], python):
                todo.append(child)
    return sorted(f"{pins[k][0]}=={pins[k][1]}" for k in seen if k in pins and k != "otter-grader")


def _python_version(root: Path = ROOT) -> str:
    """The Python version of ``pyproject.toml`` (``requires-python = ">=3.11,<3.12"`` -> ``"3.11"``)."""
    spec = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    match = re.search(r">=\s*(\d+\.\d+)", spec)
    if match is None:
        raise ValueError(f"requires-python must state a lower bound, got {spec!r}")
    return match.group(1)


def _configure(master_nb, root: Path = ROOT) -> None:
    """In place: add the self-contained grading settings to the master's ``# ASSIGNMENT CONFIG`` cell.

    ``python_version`` and ``requirements`` go into the zip's ``environment.yml``;
    ``autograder_files: [course_lib]`` puts the package under ``files/`` in the
    zip only (not in the student folder).  Settings already in the cell are kept.
    """
    cell = master_nb.cells[0]
    if cell.cell_type != "raw" or not cell.source.startswith("# ASSIGNMENT CONFIG"):
        raise ValueError("the master's first cell must be the raw '# ASSIGNMENT CONFIG' cell")
    config = yaml.safe_load(cell.source) or {}
    config.setdefault("python_version", _python_version(root))
    config["requirements"] = [*config.get("requirements", []), *grading_requirements(root)]
    config["autograder_files"] = [*config.get("autograder_files", []), "course_lib"]
    cell.source = "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False)


def _copy_package(dst: Path) -> None:
    """Copy ``course_lib``'s sources (``*.py`` files only, no caches) to ``dst``."""
    src = ROOT / "course_lib"
    for path in sorted(src.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def outputs(name: str) -> list[Path]:
    """Paths (relative to the repository) that the exercise ``name`` generates, besides its tests folder."""
    return [
        Path("exercises") / f"{name}.ipynb",
        Path("exercises") / "autograder" / f"{name}-autograder.zip",
        Path("solutions") / f"{name}.ipynb",
    ]


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _is_otter_cell(cell) -> bool:
    """Cells that otter adds for self-checks: init, grader.check(...), check_all and its heading."""
    src = cell.source
    if cell.cell_type == "code":
        return src.startswith("# Initialize Otter") or src.startswith("grader.check")
    return cell.cell_type == "markdown" and "rerun all of the autograder tests" in src


def _normalise(nb, name: str, drop_tag: str) -> None:
    """In place: drop cells tagged ``drop_tag``, give stable ids, clear outputs and volatile metadata."""
    nb.cells = [c for c in nb.cells if drop_tag not in _tags(c)]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{name}-{i:02d}"
        meta = cell.setdefault("metadata", {})
        meta.pop("execution", None)
        tags = [t for t in _tags(cell) if t not in (EXERCISE_ONLY, SOLUTION_ONLY)]
        if tags:
            meta["tags"] = tags
        else:
            meta.pop("tags", None)
        if cell.cell_type == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    nb.nbformat, nb.nbformat_minor = 4, 5


def _student(nb, name: str):
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith("# Initialize Otter"):
            # one tests folder per exercise, so that several exercises can share exercises/
            cell.source = f'# Initialize Otter\nimport otter\ngrader = otter.Notebook("{name}.ipynb", tests_dir="tests/{name}")'
    _normalise(nb, name, SOLUTION_ONLY)
    return nb


def _solutions(nb, name: str):
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if not _is_otter_cell(c)]
    for cell in nb.cells:
        tags = _tags(cell)
        if "otter_assign_solution_cell" in tags:
            cell.metadata["tags"] = [t for t in tags if t not in OTTER_TAGS] + ["hide-input"]
            cell.source = "\n".join(
                line for line in cell.source.split("\n") if line.strip() not in ("# BEGIN SOLUTION", "# END SOLUTION")
            )
        cell.metadata.pop("deletable", None)
        cell.metadata.pop("editable", None)
        if cell.cell_type == "markdown" and cell.source.startswith("# Exercises:"):
            cell.source = "# Solutions:" + cell.source[len("# Exercises:"):]
    _normalise(nb, name, EXERCISE_ONLY)
    return nb


def _deterministic_zip(src: Path, dst: Path) -> None:
    """Copy the zip ``src`` to ``dst`` with sorted entries, fixed timestamps and permissions."""
    with zipfile.ZipFile(src) as zin:
        entries = sorted((info.filename, zin.read(info.filename)) for info in zin.infolist() if not info.is_dir())
    dst.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for filename, data in entries:
            info = zipfile.ZipInfo(filename, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if filename in ("run_autograder", "setup.sh") else 0o644) << 16
            info.create_system = 3
            zout.writestr(info, data)


def _write_nb(nb, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(nb)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


def generate(master: Path, out_root: Path, run_tests: bool = True, quiet: bool = True) -> list[Path]:
    """Run otter assign on ``master`` and write the outputs of its exercise under ``out_root``.

    Returns the written paths (relative to ``out_root``).  With ``run_tests``,
    otter also grades the solved notebook with all tests and fails if it does
    not get full marks.
    """
    from otter.assign import main as otter_assign

    name = master.stem
    with tempfile.TemporaryDirectory(prefix="make-exercises-") as tmp:
        work = Path(tmp)
        master_nb = nbformat.read(master, as_version=4)
        _configure(master_nb)
        nbformat.write(master_nb, work / master.name)
        _copy_package(work / "course_lib")
        result = work / "dist"
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext():
            otter_assign(str(work / master.name), str(result), no_pdfs=True, no_run_tests=not run_tests)
        student = nbformat.read(result / "student" / master.name, as_version=4)
        solved = nbformat.read(result / "autograder" / master.name, as_version=4)
        (zip_src,) = (result / "autograder").glob(f"{name}-autograder_*.zip")

        written = []
        for rel, nb in ((Path("exercises") / f"{name}.ipynb", _student(student, name)),
                        (Path("solutions") / f"{name}.ipynb", _solutions(solved, name))):
            _write_nb(nb, out_root / rel)
            written.append(rel)
        tests_rel = Path("exercises") / "tests" / name
        shutil.rmtree(out_root / tests_rel, ignore_errors=True)
        (out_root / tests_rel).mkdir(parents=True)
        for test in sorted((result / "student" / "tests").glob("*.py")):
            shutil.copyfile(test, out_root / tests_rel / test.name)
            written.append(tests_rel / test.name)
        zip_rel = Path("exercises") / "autograder" / f"{name}-autograder.zip"
        _deterministic_zip(zip_src, out_root / zip_rel)
        written.append(zip_rel)
    return written


def masters(root: Path = ROOT) -> list[Path]:
    """The master notebooks ``exercises/source/*.ipynb``."""
    return sorted((root / SOURCE).glob("*.ipynb"))


def stale_files(root: Path = ROOT, run_tests: bool = False, only: list[Path] | None = None) -> list[str]:
    """Regenerate into a temporary folder and list the generated files that differ from those under ``root``.

    ``only``: the master notebooks to check (default: all of them).
    """
    stale: list[str] = []
    with tempfile.TemporaryDirectory(prefix="check-exercises-") as tmp:
        fresh = Path(tmp)
        for master in (only if only is not None else masters(root)):
            written = generate(master, fresh, run_tests=run_tests)
            tests_rel = Path("exercises") / "tests" / master.stem
            committed_tests = {p.name for p in (root / tests_rel).glob("*.py")}
            fresh_tests = {p.name for p in (fresh / tests_rel).glob("*.py")}
            stale += [str(tests_rel / n) + " (should not exist)" for n in sorted(committed_tests - fresh_tests)]
            for rel in written:
                if not (root / rel).is_file():
                    stale.append(f"{rel} (missing)")
                elif not filecmp.cmp(root / rel, fresh / rel, shallow=False):
                    stale.append(str(rel))
    return stale


def handout(name: str, root: Path = ROOT, out_dir: Path | None = None) -> Path:
    """Zip the student notebook of exercise ``name`` with its public tests, for handing out.

    Writes ``<out_dir>/<name>.zip`` (default ``out_dir``: ``handout/`` under
    ``root``) holding ``<name>.ipynb`` and ``tests/<name>/qN.py``: unzipped
    into any folder, the notebook's self-checks find their tests.  The
    autograder zip (hidden tests) is *not* included.  Returns the zip's path.
    """
    notebook = root / "exercises" / f"{name}.ipynb"
    tests = sorted((root / "exercises" / "tests" / name).glob("*.py"))
    if not notebook.is_file() or not tests:
        known = ", ".join(m.stem for m in masters(root))
        raise ValueError(f"name must be a generated exercise (one of: {known}), got {name!r}")
    out_dir = Path(out_dir) if out_dir is not None else root / "handout"
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{name}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for src, arcname in [(notebook, f"{name}.ipynb"), *((t, f"tests/{name}/{t.name}") for t in tests)]:
            info = zipfile.ZipInfo(arcname, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, src.read_bytes())
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="exercise names to generate (default: every master in exercises/source)")
    parser.add_argument("--handout", action="store_true", help="zip the named student notebooks with their public tests into handout/")
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed generated files are stale")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root holding exercises/source (default: this repository)")
    parser.add_argument("--out", type=Path, default=None, help="root folder to write into (default: --root)")
    parser.add_argument("--no-run-tests", action="store_true", help="do not grade the solutions while generating")
    parser.add_argument("-v", "--verbose", action="store_true", help="show otter's output")
    args = parser.parse_args(argv)
    if not args.verbose:
        logging.getLogger("otter").setLevel(logging.WARNING)
    root = args.root.resolve()
    found = masters(root)
    if not found:
        print(f"no master notebooks in {root / SOURCE}", file=sys.stderr)
        return 1
    if args.names:
        by_name = {m.stem: m for m in found}
        unknown = [n for n in args.names if n not in by_name]
        if unknown:
            print(f"unknown exercise(s) {', '.join(unknown)}; known: {', '.join(by_name)}", file=sys.stderr)
            return 2
        found = [by_name[n] for n in args.names]
    if args.handout:
        if not args.names:
            print("--handout needs the names of the exercises to hand out", file=sys.stderr)
            return 2
        for master in found:
            print(f"wrote {handout(master.stem, root, (args.out or root) / 'handout')}")
        return 0
    if args.check:
        stale = stale_files(root, only=found)
        if stale:
            print("Generated exercise files are stale; run `python tools/make_exercises.py`:", file=sys.stderr)
            for s in stale:
                print(f"  {s}", file=sys.stderr)
            return 1
        print(f"exercise files are up to date ({len(found)} master notebook(s))")
        return 0
    for master in found:
        for rel in generate(master, (args.out or root).resolve(), run_tests=not args.no_run_tests, quiet=not args.verbose):
            print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
