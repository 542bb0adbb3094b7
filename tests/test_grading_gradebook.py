"""course_lib.gradebook: submissions mapped to a roster, Canvas and Moodle exports, missing stays missing."""

from __future__ import annotations

import csv

import pytest

from course_lib import gradebook


def _scores(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text(
        "submission,q1,q2,total,error\n"
        "max,4,6,10,\n"
        "subs/ada_hw1.ipynb,4,6,10,\n"
        "subs/BOB-late.ipynb,4,0,4,\n"
        "subs/zero_effort.ipynb,0,0,0,no test passed: q1: ...\n"
        "subs/mystery.ipynb,4,6,10,\n"
        "subs/renamed.ipynb,0,3,3,\n"
    )
    return path


def _roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("id,name,email,section,file\n"
                    "ada,Ada L,ada@x.org,A,\n"
                    "bob,Bob M,bob@x.org,B,\n"
                    "zero,Zed Z,zed@x.org,A,\n"
                    "carl,Carl G,carl@x.org,B,\n"
                    "dora,Dora E,dora@x.org,A,renamed.ipynb\n")
    return path


def test_exports_map_students_and_leave_missing_empty(tmp_path):
    roster = gradebook.read_roster(_roster(tmp_path))
    unmatched = gradebook.export_canvas(_scores(tmp_path), roster, tmp_path / "c.csv", "HW 1")
    assert unmatched == ["subs/mystery.ipynb"]
    rows = list(csv.reader((tmp_path / "c.csv").open()))
    assert rows[1][-1] == "10"
    assert {r[2]: r[-1] for r in rows[2:]} == {"ada": "10", "bob": "4", "zero": "0", "carl": "", "dora": "3"}
    gradebook.export_moodle(_scores(tmp_path), roster, tmp_path / "m.csv", "HW 1")
    m = {r["ID number"]: r["HW 1"] for r in csv.DictReader((tmp_path / "m.csv").open())}
    assert m == {"ada": "10", "bob": "4", "zero": "0", "carl": "", "dora": "3"}


def test_pattern_and_bad_inputs(tmp_path):
    roster = gradebook.read_roster(_roster(tmp_path))
    matched, unmatched = gradebook.match_submissions(["x/hw1-ada.ipynb", "x/hw1-carl.ipynb", "x/hw1.ipynb"], roster,
                                                     pattern=r"hw1-(?P<id>\w+)")
    assert matched == {"ada": "x/hw1-ada.ipynb", "carl": "x/hw1-carl.ipynb"} and unmatched == ["x/hw1.ipynb"]
    with pytest.raises(ValueError, match="pattern"):
        gradebook.match_submissions([], roster, pattern=r"\w+")
    with pytest.raises(ValueError, match="two submissions"):
        gradebook.match_submissions(["ada_1.ipynb", "ada_2.ipynb"], roster)
    bad = tmp_path / "bad.csv"
    bad.write_text("student,mail\nx,y\n")
    with pytest.raises(ValueError, match="id and name"):
        gradebook.read_roster(bad)
