"""Grading a class: 30 generated answer files (slips, unreadable entries, decimal commas, a blank one) into one
table, as text, JSON and CSV; each walkthrough solved once for the class."""

import csv
import io
import json
from collections import Counter
from pathlib import Path

import pytest

from jacobian_bp import check, load, solve
from jacobian_bp.cli import main
from jacobian_bp.gradebook import grade_class
from tests.simulator import write_class

STUDENTS = 30
ARTICLE = solve(load("article"))


@pytest.fixture(scope="module")
def classroom(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("class")
    return folder, write_class(folder, ARTICLE, "article", STUDENTS, seed=15)


def run(capsys, *arguments) -> tuple[int, str, str]:
    status = main(list(arguments))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def planted_counts(planted: dict) -> tuple[Counter, Counter]:
    """How many students (not the blank one) had a slip, or an unreadable entry, in each quantity."""
    slips, unreadable = Counter(), Counter()
    for student in planted.values():
        if not student["blank"]:
            slips.update(student["slips"])
            if student["unreadable"]:
                unreadable[student["unreadable"]] += 1
    return slips, unreadable


def test_the_class_json_counts_every_planted_slip_and_unreadable_entry(classroom, capsys):
    folder, planted = classroom
    status, out, err = run(capsys, "check", str(folder), "--format", "json")
    assert status == 1 and err == ""
    document = json.loads(out)
    assert document["ungraded"] == []
    (group,) = document["walkthroughs"]
    assert group["walkthrough"] == "article"
    assert [student["student"] for student in group["students"]] == sorted(planted)
    slips, unreadable = planted_counts(planted)
    assert slips and unreadable
    for quantity, counts in group["quantities"].items():
        assert counts["wrong"] == slips[quantity], quantity
        assert counts["unreadable"] == unreadable[quantity], quantity
        assert sum(counts[verdict] for verdict in check.VERDICTS) == STUDENTS
    assert group["quantities"]["dJ/dW3"]["commonest slip"] == "transposed"
    assert group["quantities"]["dJ/db3"]["commonest slip"] == "missing 1/m"
    assert group["quantities"]["dJ/dA2"]["commonest slip"] == "digit slip"
    assert group["quantities"]["J"]["wrong"] == 0  # the decimal commas are read as points
    by_name = {student["student"]: student for student in group["students"]}
    for name, student in planted.items():
        verdicts = by_name[name]["verdicts"]
        assert by_name[name]["blank"] == student["blank"]
        if student["blank"]:
            assert set(verdicts.values()) == {"unanswered"}
            continue
        wrong = {quantity for quantity, verdict in verdicts.items() if verdict == "wrong"}
        assert wrong == set(student["slips"]), name  # every slip penalised once, where it was made
        if student["unreadable"]:
            assert verdicts[student["unreadable"]] == "unreadable"


def test_the_class_csv_has_a_row_per_student_a_column_per_quantity_and_the_counts(classroom, capsys):
    folder, planted = classroom
    status, out, _ = run(capsys, "check", str(folder), "--format", "csv")
    assert status == 1
    rows = list(csv.DictReader(io.StringIO(out)))
    students = [row for row in rows if not row["student"].startswith("(")]
    assert [row["student"] for row in students] == sorted(planted)
    totals = {row["student"]: row for row in rows if row["student"].startswith("(")}
    assert set(totals) == {"(wrong answers)", "(unreadable answers)"}
    slips, unreadable = planted_counts(planted)
    for quantity in ("dJ/dW3", "dJ/db3", "dJ/dA2", "dJ/dZ2", "J"):
        assert int(totals["(wrong answers)"][quantity]) == slips[quantity]
        assert sum(row[quantity] == "wrong" for row in students) == slips[quantity]
    assert all(int(row["wrong"]) == len(planted[row["student"]]["slips"]) for row in students
               if not planted[row["student"]]["blank"])


def test_the_class_table_in_the_terminal(classroom, capsys):
    folder, planted = classroom
    status, out, _ = run(capsys, "check", str(folder), "--width", "100")
    assert status == 1
    assert out.startswith(f"Checking {STUDENTS} answer files.")
    assert all(len(line) <= 100 for line in out.splitlines())
    for name in planted:
        assert name in out
    assert f"student{STUDENTS} (blank)" in out
    slips, _ = planted_counts(planted)
    quantity, count = slips.most_common(1)[0]
    assert f"Most often wrong: {quantity} ({count} of {STUDENTS} wrong" in out
    assert "Columns: 1 Z1 · 2 A1" in out
    wrong_rows = [line.split()[2:] for line in out.splitlines() if line.startswith("wrong answers")]
    shown = [int(count) for row in wrong_rows for count in row]
    assert sum(shown) == sum(slips.values())


def test_each_walkthrough_is_solved_once_for_the_whole_class(classroom, monkeypatch):
    folder, _ = classroom
    calls = []
    monkeypatch.setattr(check, "solve", lambda walkthrough: calls.append(walkthrough) or solve(walkthrough))
    gradebook = grade_class(sorted(folder.glob("*.toml")))
    assert len(gradebook.students) == STUDENTS and len(calls) == 1


def test_a_file_that_cannot_be_graded_is_listed_and_the_class_is_graded(tmp_path, capsys):
    write_class(tmp_path, ARTICLE, "article", 3, seed=1)
    (tmp_path / "zoe.toml").write_text('walkthrough = "artcle"\n[answers]\n', encoding="utf-8")
    status, out, err = run(capsys, "check", str(tmp_path), "--width", "100")
    assert status == 1 and err == ""
    assert "Answer files that cannot be graded" in out and "did you mean 'article'" in out
    document = json.loads(run(capsys, "check", str(tmp_path), "--format", "json")[1])
    assert len(document["walkthroughs"][0]["students"]) == 3
    assert document["ungraded"][0]["student"] == "zoe" and "artcle" in document["ungraded"][0]["problem"]


def test_several_files_make_a_class_and_a_folder_without_answer_files_is_an_error(tmp_path, capsys):
    write_class(tmp_path, ARTICLE, "article", 2, seed=2)
    files = sorted(str(path) for path in tmp_path.glob("*.toml"))
    document = json.loads(run(capsys, "check", *files, "--format", "json")[1])
    assert len(document["walkthroughs"][0]["students"]) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    status, out, err = run(capsys, "check", str(empty))
    assert status == 2 and out == "" and "no answer files" in err


def test_the_class_table_fits_80_columns_and_has_ascii_marks(classroom):
    from jacobian_bp.render.terminal import gradebook as table
    from jacobian_bp.render.terminal.widgets import make_console
    from tests.golden import AsciiBuffer

    folder, planted = classroom
    gradebook = grade_class(sorted(folder.glob("*.toml")))
    buffer = AsciiBuffer()
    table.render(gradebook, make_console(80, file=buffer))
    text = buffer.getvalue()
    assert text.isascii() and max(len(line) for line in text.splitlines()) <= 80
    rows = [line.split() for line in text.splitlines() if line.startswith("student01 ")]
    assert rows and all(mark in ("OK", "CF", "X", "!", "-") for row in rows for mark in row[1:] if not mark.isdigit())
