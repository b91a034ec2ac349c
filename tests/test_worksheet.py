"""Worksheets: blank answer files that, filled in with the right values, check as all correct."""

import json
import tomllib

import numpy as np
import pytest

from jacobian_bp import load, solve
from jacobian_bp.check import derivations, grade
from jacobian_bp.cli import main
from jacobian_bp.names import GROUPS
from jacobian_bp.worksheet import render
from tests.strategies import written_out_names

ARTICLE = solve(load("article"))


def filled(worksheet: str, solution, decimals: int | None) -> str:
    """The worksheet with every "?" replaced, in the worksheet's own nesting, by the value rounded to `decimals`.

    The file is rebuilt from the parsed TOML, so it checks the worksheet's names and shapes, not ours.
    """
    document = tomllib.loads(worksheet)
    lines = [f"walkthrough = {json.dumps(document['walkthrough'])}", f"decimals = {document['decimals']}",
             "[answers]"]
    for name, placeholders in document["answers"].items():
        values = iter(np.ravel(solution.quantities[name]))
        lines.append(f"{json.dumps(name)} = {json.dumps(_fill(placeholders, values, decimals))}")
        assert next(values, None) is None, f"{name}: the worksheet has fewer entries than the quantity"
    return "\n".join(lines) + "\n"


def _fill(item, values, decimals: int | None):
    """`item` (a "?" or nested lists of them) with each "?" replaced by the next of `values`."""
    if isinstance(item, list):
        return [_fill(entry, values, decimals) for entry in item]
    assert item == "?"
    value = float(next(values))
    return value if decimals is None else round(value, decimals)


def run(capsys, *arguments) -> tuple[int, str, str]:
    status = main(list(arguments))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("name", written_out_names())
@pytest.mark.parametrize("decimals", [None, "walkthrough"])
def test_a_worksheet_filled_with_the_engines_values_checks_as_all_correct(name, decimals, tmp_path, capsys):
    solution = solve(load(name))
    worksheet = tmp_path / "worksheet.toml"
    assert run(capsys, "worksheet", name, "-o", str(worksheet))[0] == 0
    answers = tmp_path / "answers.toml"
    places = None if decimals is None else solution.walkthrough.decimals
    answers.write_text(filled(worksheet.read_text(encoding="utf-8"), solution, places), encoding="utf-8")
    report = grade(answers)
    asked = [derivation.name for derivation in derivations(solution).values() if derivation.group != "given"]
    assert [result.name for result in report.quantities] == asked
    assert all(result.verdict == "correct" for result in report.quantities)
    assert run(capsys, "check", str(answers))[0] == 0


def test_a_blank_worksheet_checks_as_unanswered(tmp_path, capsys):
    worksheet = tmp_path / "worksheet.toml"
    run(capsys, "worksheet", "-o", str(worksheet))
    status, out, _ = run(capsys, "check", str(worksheet), "--format", "json")
    assert status == 0
    document = json.loads(out)
    assert document["summary"] == {"correct": 0, "carried forward": 0, "wrong": 0, "unreadable": 0,
                                   "unanswered": len(document["quantities"])}
    assert document["blank"] is True
    assert len(document["quantities"]) == len(ARTICLE.quantities) - 8  # all but X, Y and the 3 layers' W and b


def test_the_worksheet_asks_in_the_order_a_student_computes_and_not_for_the_givens():
    document = tomllib.loads(render(ARTICLE, list(GROUPS), "article"))
    names = list(document["answers"])
    assert names[:8] == ["Z1", "A1", "Z2", "A2", "Z3", "A3", "L", "J"]
    assert names[8:14] == ["dJ/dL", "dL/dA3", "dJ/dA3", "dA3/dZ3", "dJ/dZ3", "dZ3/db3"]
    assert names[-7:] == ["b1_updated", "W1_updated", "b2_updated", "W2_updated", "b3_updated", "W3_updated",
                          "J_final"]  # the cost after the update: one more forward pass
    assert not {"X", "Y", "W1", "b1", "W3", "b3"} & set(names)
    assert set(names) | {"X", "Y", "W1", "b1", "W2", "b2", "W3", "b3"} == set(ARTICLE.quantities)
    assert document["walkthrough"] == "article" and document["decimals"] == 4


def test_placeholders_have_the_shape_of_each_quantity():
    answers = tomllib.loads(render(ARTICLE, list(GROUPS), "article"))["answers"]
    assert answers["J"] == "?" and answers["dJ/db3"] == "?"
    assert answers["b1_updated"] == ["?"] * 3
    assert answers["dJ/dW2"] == [["?"] * 3] * 2
    assert answers["dZ1/dW1"] == [["?"] * 6] * 6
    assert answers["dJ/dL"] == [["?"], ["?"]]


def test_every_question_has_a_comment_with_its_meaning_and_shape():
    text = render(ARTICLE, list(GROUPS), "article")
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line.startswith('"'):
            comment = lines[number - 1]
            assert comment.startswith("# "), line
    assert "# dJ/dW2 = dJ/dZ2 · dZ2/dW2, de-vectorized to the shape of W2 (2 × 3)" in lines
    assert ("# dZ2/dW2 = ∂vec(Z2)/∂vec(W2) is 4 × 6: one row per entry of Z2, one column per entry of W2"
            in lines)
    assert "# A1 = ReLU(Z1) (2 × 3)" in lines
    assert "# b1_updated = b1 − 0.01 · dJ/db1 (1 × 3)" in lines
    assert "#   W1 = [[-1, 2], [3, 0.5], [-0.1, -4]]" in lines


@pytest.mark.parametrize(("groups", "first", "absent"), [
    (["forward"], "Z1", {"dJ/dL", "dL/dA3", "dJ/dA3", "b1_updated"}),
    (["jacobians"], "dJ/dL", {"Z1", "dJ/dA3", "b1_updated"}),
    (["gradients"], "dJ/dL", {"Z1", "dL/dA3", "b1_updated"}),
    (["update"], "b1_updated", {"Z1", "dJ/dL", "dL/dA3"}),
    (["gradients", "update"], "dJ/dL", {"Z1", "dL/dA3"}),
])
def test_only_the_chosen_groups(groups, first, absent):
    names = list(tomllib.loads(render(ARTICLE, groups, "article"))["answers"])
    assert names[0] == first
    assert not absent & set(names)


def test_only_option_on_the_command_line(capsys):
    status, out, _ = run(capsys, "worksheet", "article", "--only", "update")
    assert status == 0
    assert list(tomllib.loads(out)["answers"]) == [
        "b1_updated", "W1_updated", "b2_updated", "W2_updated", "b3_updated", "W3_updated", "J_final"]
    status, _, err = run(capsys, "worksheet", "--only", "backward")
    assert status == 2 and "unknown group 'backward'" in err


def test_a_walkthrough_file_is_named_relative_to_the_answer_file(tmp_path, monkeypatch, capsys):
    from jacobian_bp.walkthrough import resolve

    (tmp_path / "nets").mkdir()
    (tmp_path / "sheets").mkdir()
    (tmp_path / "nets" / "mine.toml").write_text(resolve("xor").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "worksheet", "nets/mine.toml", "-o", "sheets/answers.toml")[0] == 0
    document = tomllib.loads((tmp_path / "sheets" / "answers.toml").read_text(encoding="utf-8"))
    assert document["walkthrough"] == "../nets/mine.toml"
    monkeypatch.chdir(tmp_path / "nets")
    assert run(capsys, "check", "../sheets/answers.toml")[0] == 0


def test_a_worksheet_on_standard_output_names_its_walkthrough_file_by_absolute_path(tmp_path, monkeypatch, capsys):
    from jacobian_bp.walkthrough import resolve

    (tmp_path / "nets").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "nets" / "mine.toml").write_text(resolve("xor").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    status, out = run(capsys, "worksheet", "nets/mine.toml")[:2]
    assert status == 0 and tomllib.loads(out)["walkthrough"] == (tmp_path / "nets" / "mine.toml").as_posix()
    (tmp_path / "elsewhere" / "answers.toml").write_text(out, encoding="utf-8")
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert run(capsys, "check", "answers.toml")[0] == 0


def test_a_worksheet_gives_what_the_nodes_hold_beside_their_parameters(capsys):
    """A hand calculation needs the dropout mask, a picture's shape, a stride and the padding: they are given."""
    assert main(["worksheet", "dropout"]) == 0
    given = capsys.readouterr().out.split("[answers]")[0]
    assert "The mask of D1 (as given; 1 keeps, 0 drops), row by row: 1 0 1 1; 0 1 1 0" in given
    assert main(["worksheet", "cnn"]) == 0
    given = " ".join(capsys.readouterr().out.split("[answers]")[0].split())
    assert "Z1 reads each sample's row of X as a 1 × 5 × 5 picture" in given
    assert "Z2 reads each sample's row of A1 as a 2 × 4 × 4 picture (channels × height × width), with windows of " \
           "k × k = 3 × 3, stride 1, zero padding 1." in given
