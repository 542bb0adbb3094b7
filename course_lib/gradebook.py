r"""From a score table to an LMS gradebook: map submissions to students, export Canvas and Moodle CSV.

The batch grader (:func:`course_lib.grading.grade_submissions`) writes one row per
*submission file*.  A gradebook needs one row per *student*, including the
students who handed nothing in -- they must appear as **missing** (an empty
grade), not as 0.  This module

* reads a roster CSV (:func:`read_roster`): one row per student with the columns
  ``id`` (the student's identifier: login or student number), ``name``, and
  optionally ``email``, ``section`` and ``file`` (the submission's file name,
  when it does not follow a pattern);
* maps each graded submission to a student (:func:`match_submissions`): by the
  roster's ``file`` column, else by a regular expression whose group ``id``
  extracts the student's id from the file name (default: the file name up to
  the first ``_``, ``-``, ``.`` or space, e.g. ``jdoe_two_pillars.ipynb`` -> ``jdoe``);
* writes a Canvas-style gradebook import (:func:`export_canvas`: columns
  ``Student, ID, SIS User ID, SIS Login ID, Section, <assignment>``) and a
  Moodle-style grade import (:func:`export_moodle`: ``ID number, Full name,
  Email address, <assignment>``); a student without a submission gets an empty
  grade cell.  Grades are the ``total`` column, with its maximum in the header
  of the Canvas file (``Points Possible`` row) as Canvas expects.

From a shell::

    python -m course_lib.gradebook --scores scores.csv --roster roster.csv \
        --assignment two_pillars --canvas canvas.csv --moodle moodle.csv
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import os
import re
import sys
from pathlib import Path
from typing import Sequence

__all__ = ["Student", "read_roster", "read_totals", "match_submissions", "export_canvas", "export_moodle", "main"]

DEFAULT_PATTERN = r"^(?P<id>[^_\-. ]+)"


@dataclasses.dataclass(frozen=True)
class Student:
    """One roster row: identifier, display name, optional email, section and submission file name."""

    id: str
    name: str
    email: str = ""
    section: str = ""
    file: str = ""


def read_roster(path: str | os.PathLike[str]) -> list[Student]:
    """Students of a roster CSV with columns ``id, name`` (and optionally ``email, section, file``).

    Raises ``ValueError`` naming the file if a required column is missing or an ``id`` repeats.
    """
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    if not rows or not {"id", "name"} <= set(rows[0]):
        raise ValueError(f"roster {str(path)!r} must be a CSV with the columns id and name (optionally email, section, file)")
    students = [Student(r["id"].strip(), r["name"].strip(), (r.get("email") or "").strip(),
                        (r.get("section") or "").strip(), (r.get("file") or "").strip()) for r in rows]
    ids = [s.id for s in students]
    if len(set(ids)) != len(ids) or not all(ids):
        raise ValueError(f"roster {str(path)!r}: every student needs a distinct, non-empty id")
    return students


def read_totals(scores_csv: str | os.PathLike[str]) -> tuple[dict[str, float], float]:
    """``({submission path: total}, maximal total)`` from a score table of :func:`course_lib.grading.grade_submissions`."""
    with open(scores_csv, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0][:1] != ["submission"] or "total" not in rows[0]:
        raise ValueError(f"scores_csv {str(scores_csv)!r} is not a score table of course_lib.grading")
    col = rows[0].index("total")
    totals, best = {}, float("nan")
    for row in rows[1:]:
        if len(row) != len(rows[0]):
            continue
        if row[0] == "max":
            best = float(row[col])
        else:
            totals[row[0]] = float(row[col])
    return totals, best


def match_submissions(
    paths: Sequence[str], roster: Sequence[Student], pattern: str = DEFAULT_PATTERN
) -> tuple[dict[str, str], list[str]]:
    """Map submissions to students: ``({student id: path}, [paths matching no student])``.

    A roster ``file`` entry (a file name) wins; otherwise the group ``id`` of
    ``pattern`` searched in the file name must equal a student's id
    (case-insensitive).  Two submissions of one student: ``ValueError``.
    """
    regex = re.compile(pattern)
    if "id" not in regex.groupindex:
        raise ValueError(f"pattern must have a named group (?P<id>...), got {pattern!r}")
    by_file = {s.file: s.id for s in roster if s.file}
    by_id = {s.id.lower(): s.id for s in roster}
    matched: dict[str, str] = {}
    unmatched = []
    for p in paths:
        name = Path(p).name
        sid = by_file.get(name)
        if sid is None:
            m = regex.search(name)
            sid = by_id.get(m.group("id").lower()) if m else None
        if sid is None:
            unmatched.append(p)
            continue
        if sid in matched:
            raise ValueError(f"two submissions for student {sid!r}: {matched[sid]} and {p}")
        matched[sid] = p
    return matched, unmatched


def _grades(scores_csv, roster, pattern):
    totals, best = read_totals(scores_csv)
    matched, unmatched = match_submissions(list(totals), roster, pattern)
    return {s.id: (f"{totals[matched[s.id]]:g}" if s.id in matched else "") for s in roster}, best, unmatched


def export_canvas(scores_csv, roster, out_csv, assignment: str, pattern: str = DEFAULT_PATTERN) -> list[str]:
    """Write a Canvas gradebook import; returns the submissions that matched no student.

    Columns ``Student, ID, SIS User ID, SIS Login ID, Section, <assignment>``; a
    ``Points Possible`` row carries the maximum; missing submissions leave the grade empty.
    """
    grades, best, unmatched = _grades(scores_csv, roster, pattern)
    with open(out_csv, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment])
        w.writerow(["    Points Possible", "", "", "", "", f"{best:g}"])
        for s in roster:
            w.writerow([s.name, "", s.id, s.email or s.id, s.section, grades[s.id]])
    return unmatched


def export_moodle(scores_csv, roster, out_csv, assignment: str, pattern: str = DEFAULT_PATTERN) -> list[str]:
    """Write a Moodle grade import (map ``ID number`` or ``Email address``); returns unmatched submissions.

    Columns ``ID number, Full name, Email address, <assignment>``; missing submissions leave the grade empty.
    """
    grades, _, unmatched = _grades(scores_csv, roster, pattern)
    with open(out_csv, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["ID number", "Full name", "Email address", assignment])
        for s in roster:
            w.writerow([s.id, s.name, s.email, grades[s.id]])
    return unmatched


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; prints the submissions that matched no student (exit code 0)."""
    parser = argparse.ArgumentParser(prog="python -m course_lib.gradebook", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scores", required=True, help="score table written by python -m course_lib.grading --out")
    parser.add_argument("--roster", required=True, help="CSV with columns id, name[, email, section, file]")
    parser.add_argument("--assignment", required=True, help="assignment (column) name in the gradebook")
    parser.add_argument("--pattern", default=DEFAULT_PATTERN, help="regex with a group (?P<id>...) on the file name")
    parser.add_argument("--canvas", help="write a Canvas gradebook CSV here")
    parser.add_argument("--moodle", help="write a Moodle grade import CSV here")
    args = parser.parse_args(argv)
    roster = read_roster(args.roster)
    unmatched: list[str] = []
    for path, export in ((args.canvas, export_canvas), (args.moodle, export_moodle)):
        if path:
            unmatched = export(args.scores, roster, path, args.assignment, args.pattern)
            print(f"wrote {path}")
    for p in unmatched:
        print(f"no student for submission {p}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
