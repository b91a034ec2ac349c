"""The reference pages in docs/ stay true: their examples load, their names exist, and the project
depends on no document outside itself."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from jacobian_bp import load, solve

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# Written in two pieces, so that this file does not name them itself.
FORBIDDEN = ("DESIGN" + ".md", ".." + "/shared")
SKIPPED_DIRECTORIES = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", "build", "dist"}
ARTICLE_LAYERS = 3


def repository_files() -> list[Path]:
    """Every file of the project outside .git: tracked or new, but not ignored (the venv, caches)."""
    if shutil.which("git") and (ROOT / ".git").exists():
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                cwd=ROOT, capture_output=True, check=True).stdout
        return [ROOT / name for name in listed.decode().split("\0") if name and (ROOT / name).is_file()]
    return [path for path in ROOT.rglob("*") if path.is_file()
            and not SKIPPED_DIRECTORIES.intersection(path.relative_to(ROOT).parts)
            and not any(part.endswith(".egg-info") for part in path.parts)]


def test_no_file_refers_to_documents_outside_the_project():
    offenders = []
    for path in repository_files():
        data = path.read_bytes()
        for text in FORBIDDEN:
            for number, line in enumerate(data.splitlines(), start=1):
                if text.encode() in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: mentions {text!r}")
    assert not offenders, "point to the pages in docs/ instead:\n" + "\n".join(offenders)


def fenced_blocks(page: Path, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", page.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)


WALKTHROUGH_EXAMPLES = fenced_blocks(DOCS / "walkthrough-files.md", "toml")


def test_walkthrough_page_has_examples():
    assert len(WALKTHROUGH_EXAMPLES) >= 2


@pytest.mark.parametrize("number", range(len(WALKTHROUGH_EXAMPLES)))
def test_walkthrough_examples_load_and_solve(number, tmp_path):
    path = tmp_path / f"example_{number + 1}.toml"
    path.write_text(WALKTHROUGH_EXAMPLES[number], encoding="utf-8")
    solution = solve(load(str(path)))
    assert solution.quantities


def section(page: Path, heading: str) -> str:
    """The text under the level-2 `heading` of `page`, up to the next level-2 heading."""
    text = page.read_text(encoding="utf-8")
    found = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert found, f"{page.name} has no section '## {heading}'"
    return found.group(1)


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the first Markdown table in `text`, each as its cells' first `code` name."""
    lines = text.splitlines()
    start = next(number for number, line in enumerate(lines) if line.startswith("|"))
    end = next((number for number in range(start, len(lines)) if not lines[number].startswith("|")), len(lines))
    rows = lines[start + 2:end]
    cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]
    return [[(re.findall(r"`([^`]+)`", cell) or [cell])[0] for cell in row] for row in cells]


@pytest.fixture(scope="module")
def article():
    return solve(load("article"))


def expansions(patterns: tuple[str, ...], layers: int) -> list[tuple[str, ...]]:
    """The names documented patterns stand for together, in a network of `layers` layers: `k` is any
    layer (from 2 where `(k-1)` appears), `N` the output layer. Names without `k` or `N` are themselves."""
    patterns = tuple(pattern.replace("N", str(layers)) for pattern in patterns)
    if not any("k" in pattern for pattern in patterns):
        return [patterns]
    first = 2 if any("(k-1)" in pattern for pattern in patterns) else 1
    return [tuple(pattern.replace("(k-1)", str(k - 1)).replace("k", str(k)) for pattern in patterns)
            for k in range(first, layers + 1)]


def test_article_quantities_listed_in_docs_exist(article):
    listing = section(DOCS / "quantities.md", "Every quantity of the article")
    listed = " ".join(re.findall(r"```text\n(.*?)```", listing, re.DOTALL)).split()
    assert listed, "quantities.md lists no quantities of the article"
    missing = [name for name in listed if name not in article.quantities]
    assert not missing, f"quantities.md lists names the article does not have: {missing}"
    assert listed == list(article.quantities), "quantities.md should list every quantity of the article, in order"


def test_names_in_docs_are_quantities_or_patterns_of_them(article):
    names = [row[0] for row in table_rows(section(DOCS / "quantities.md", "Names"))]
    assert len(names) >= 20
    for name in names:
        if name in article.quantities:
            continue
        assert "k" in name or "N" in name, f"quantities.md names {name!r}, which the article does not have"
        unknown = [real for (real,) in expansions((name,), ARTICLE_LAYERS) if real not in article.quantities]
        assert not unknown, f"the pattern {name!r} of quantities.md stands for names the article lacks: {unknown}"


def test_documented_steps_are_the_engine_steps(article):
    rows = table_rows(section(DOCS / "quantities.md", "The backward steps and their order"))
    assert len(rows) >= 6
    steps = {(step.gradient, step.upstream, step.jacobian_name) for step in article.steps}
    for row in rows:
        for names in expansions(tuple(row), ARTICLE_LAYERS):
            assert names in steps, f"quantities.md documents the step {names}, which the article does not take"


@pytest.fixture(scope="module")
def graphs():
    """The bundled walkthroughs the graph sections of quantities.md draw their examples from."""
    return {name: solve(load(name)) for name in ("residual", "regularized")}


def test_residual_quantities_listed_in_docs_are_its_own_in_order(graphs):
    listing = section(DOCS / "quantities.md", "Every quantity of the residual walkthrough")
    text = " ".join(re.findall(r"```text\n(.*?)```", listing, re.DOTALL))
    listed = [name.strip() for name in text.split(",") if name.strip()]
    assert listed == list(graphs["residual"].quantities), "quantities.md should list residual's quantities, in order"


def test_graph_names_in_docs_have_real_examples(graphs):
    rows = table_rows(section(DOCS / "quantities.md", "Names in any graph"))
    assert len(rows) >= 8
    known = set(graphs["residual"].quantities) | set(graphs["regularized"].quantities)
    unknown = [row[-1] for row in rows if row[-1] not in known]
    assert not unknown, f"quantities.md gives examples that neither residual nor regularized has: {unknown}"


def test_documented_contributions_and_sums_are_the_engine_steps(graphs):
    text = section(DOCS / "quantities.md", "Contributions and sum steps")
    tables = re.findall(r"^(\|.*\n\|[-|]+\|\n(?:\|.*\n)+)", text, re.MULTILINE)
    assert len(tables) >= 2
    steps = {(step.gradient, step.upstream, step.jacobian_name): step
             for solution in graphs.values() for step in solution.steps}
    for table in tables:
        for gradient, upstream, jacobian in table_rows(table):
            is_sum = upstream == "—"  # a sum step: no upstream, no Jacobian, its contributions named in the row
            found = steps.get((gradient, "", "") if is_sum else (gradient, upstream, jacobian))
            assert found, f"quantities.md documents the step {gradient!r}, which neither residual nor regularized takes"
            assert found.is_sum == is_sum, gradient
            if is_sum:
                assert all(f"`{name}`" in table for name in found.contributions), gradient
