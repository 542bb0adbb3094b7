"""The Binder environment, pyproject.toml and constraints.txt agree."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for req in requirements:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;]+)\s*", req)
        assert m, f"not pinned with ==: {req!r}"
        pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def _env_pip() -> list[str]:
    deps = _environment()["dependencies"]
    pip_sections = [d["pip"] for d in deps if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml must have exactly one pip section"
    return pip_sections[0]


def test_every_dependency_is_pinned():
    project = _pyproject()["project"]
    _pins(project["dependencies"])
    for extra, reqs in project["optional-dependencies"].items():
        _pins(reqs)


def test_binder_environment_equals_runtime_plus_binder_extra():
    project = _pyproject()["project"]
    expected = {**_pins(project["dependencies"]), **_pins(project["optional-dependencies"]["binder"])}
    assert _pins(_env_pip()) == expected


def test_binder_environment_is_small_and_pins_python():
    env = _pins(_env_pip())
    for heavy in ("jupyter-book", "sphinx", "myst-nb", "pytest"):
        assert heavy not in env, f"{heavy} does not belong in the Binder image"
    conda = [d for d in _environment()["dependencies"] if isinstance(d, str)]
    assert "python=3.11" in conda  # JAX needs >= 3.11; Binder must not float to another minor version
    assert _pyproject()["project"]["requires-python"].startswith(">=3.11")


def test_postbuild_installs_course_lib_and_jupytext_viewer():
    post = ROOT / "postBuild"
    assert os.access(post, os.X_OK), "postBuild must be executable for Binder to run it"
    text = post.read_text()
    assert "pip install --no-deps" in text and "-e ." in text
    assert '"markdown": "Jupytext Notebook"' in text
    assert not (ROOT / "binder").exists(), "a binder/ folder would hide the top-level environment.yml"


def test_constraints_agree_with_pins():
    """constraints.txt (the full lock) must not contradict a direct pin."""
    lock = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            lock[name.lower().replace("_", "-")] = version
    project = _pyproject()["project"]
    direct = _pins(project["dependencies"])
    for reqs in project["optional-dependencies"].values():
        direct.update(_pins(reqs))
    missing = sorted(set(direct) - set(lock))
    assert not missing, f"constraints.txt lacks {missing}"
    wrong = {k: (v, lock[k]) for k, v in direct.items() if lock[k] != v}
    assert not wrong, f"pins differ between pyproject.toml and constraints.txt: {wrong}"


def test_repository_url_has_one_home():
    """The repository URL is written in _config.yml only."""
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert url.startswith("https://")
    slug = url.split("://", 1)[1]
    offenders = []
    for path in ROOT.rglob("*"):
        if any(p in path.parts for p in ("_build", ".git", ".venv", "node_modules")) or not path.is_file():
            continue
        if path.suffix not in {".md", ".yml", ".yaml", ".py", ".toml", ".txt", ".sh", ".ipynb", ".cfg"}:
            continue
        if path.name == "_config.yml":
            continue
        if path.parent == ROOT / "notebooks":  # generated from _config.yml by tools/make_notebooks.py
            continue
        if slug in path.read_text(errors="ignore"):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"repository URL repeated outside _config.yml: {offenders}"


def test_pages_workflow_runs_the_readme_book_command():
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    steps = [s for job in wf["jobs"].values() for s in job["steps"]]
    runs = [s.get("run", "") for s in steps]
    assert "bash tools/book.sh" in runs, "the Pages workflow must build with the README's book command"
    assert "bash tools/book.sh" in (ROOT / "README.md").read_text()
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-pages-artifact")]
    assert uploads and uploads[0]["with"]["path"] == "_build/html"
    # the published book offers its PDF: built by the README's PDF command after the HTML, before the upload
    assert "bash tools/pdf.sh" in runs and "bash tools/pdf.sh" in (ROOT / "README.md").read_text()
    assert runs.index("bash tools/book.sh") < runs.index("bash tools/pdf.sh") < steps.index(uploads[0])
