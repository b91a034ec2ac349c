"""The exports for teachers: Markdown, LaTeX and HTML hold every step and every value, and are well formed."""

import functools
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jacobian_bp.cli import main
from jacobian_bp.numbers import format_number
from jacobian_bp.render import html, latex, layout, markdown, story
from jacobian_bp.solution import solve
from jacobian_bp.walkthrough import load
from tests.strategies import walkthroughs, written_out_names

NAMES = written_out_names()  # every matrix written out whole (mnist_shape: tests/test_structured.py)
RENDERERS = {"markdown": markdown.render, "latex": latex.render, "html": html.render}
VOID_ELEMENTS = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "area", "base", "source", "track"}


@functools.cache
def solved(name: str):
    return solve(load(name))


@functools.cache
def rendered(form: str, name: str, decimals: int = 4, symbolic: bool = True) -> str:
    return RENDERERS[form](solved(name), decimals=decimals, symbolic=symbolic)


def expected_matrices(solution, decimals: int) -> dict[str, tuple]:
    """Every matrix a document must show, by what it is, as rows of the texts of `format_number`."""
    def cells(matrix) -> tuple:
        return tuple(tuple(format_number(float(v), decimals) for v in row) for row in np.atleast_2d(matrix))

    expected = {}
    for name in solution.graph.computed:
        if name != solution.graph.cost_node.output:
            expected[name] = cells(solution.values[name])
    for step in solution.steps:
        expected[f"{step.gradient} (result)"] = cells(step.result)
        if not step.is_sum:
            expected[f"{step.gradient} (product row)"] = cells(step.product_row)
            expected[f"{step.gradient} (upstream row)"] = cells(step.upstream_row)
            expected[f"{step.jacobian_name} (numeric Jacobian)"] = cells(step.jacobian)
    for update in solution.updates:
        expected[update.name] = cells(update.new)
    # a matrix larger than a document's window is shown as its corners (tests/test_structured.py checks those)
    return {what: matrix for what, matrix in expected.items()
            if len(matrix) <= layout.DOCUMENT_ROWS and len(matrix[0]) <= layout.DOCUMENT_COLUMNS}


def bmatrices(text: str) -> set[tuple]:
    """Every `bmatrix` of a Markdown or LaTeX document, as rows of cell texts (dimming removed)."""
    found = set()
    for body in re.findall(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", text, re.S):
        rows = [row.split("&") for row in re.split(r"\\\\", body)]
        found.add(tuple(tuple(re.sub(r"^\{\\color\{zero\}(.*)\}$", r"\1", cell.strip()) for cell in row)
                        for row in rows))
    return found


class Page(HTMLParser):
    """The parts of an HTML page that the tests look at; also checks that every element is closed."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.ids: list[str] = []
        self.matrices: list[tuple] = []
        self.classes_open: list[set] = []
        self.row: list[str] | None = None
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.style = ""
        self.feed(text)
        self.close()
        if self.open:
            self.errors.append(f"never closed: {self.open}")

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if tag in VOID_ELEMENTS:
            return
        self.open.append(tag)
        self.classes_open.append(set((attributes.get("class") or "").split()))
        in_numeric = any({"matrix", "numeric"} <= classes for classes in self.classes_open)
        if in_numeric and tag == "tr":
            self.row = []
        if in_numeric and tag == "td":
            self.cell = []

    def handle_startendtag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
            return
        classes = self.classes_open.pop()
        self.open.pop()
        if tag == "td" and self.cell is not None:
            self.row.append("".join(self.cell).replace("−", "-"))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None
        elif {"matrix", "numeric"} <= classes:
            self.matrices.append(tuple(tuple(row) for row in self.rows))
            self.rows = []

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        if self.open and self.open[-1] == "style":
            self.style += data

    def count(self, tag: str, css_class: str | None = None) -> int:
        return sum(1 for name, attributes in self.tags
                   if name == tag and (css_class is None or css_class in (attributes.get("class") or "").split()))


def steps_with_breadcrumbs(solution) -> int:
    pages = story.pages(solution)
    return sum(len(page.steps) if page.kind == "backward" else 1 for page in pages)


# Every value, in every format, for every bundled walkthrough

@pytest.mark.parametrize("form", ["markdown", "latex"])
@pytest.mark.parametrize("name", NAMES)
def test_every_value_is_in_the_math_documents(form, name):
    solution = solved(name)
    decimals = solution.walkthrough.decimals
    found = bmatrices(rendered(form, name, decimals))
    missing = [what for what, matrix in expected_matrices(solution, decimals).items() if matrix not in found]
    assert not missing, f"{form} of {name} lacks {missing[:5]}"


@pytest.mark.parametrize("name", NAMES)
def test_every_value_is_in_the_html_page(name):
    solution = solved(name)
    decimals = solution.walkthrough.decimals
    found = set(Page(rendered("html", name, decimals)).matrices)
    missing = [what for what, matrix in expected_matrices(solution, decimals).items() if matrix not in found]
    assert not missing, f"html of {name} lacks {missing[:5]}"


@pytest.mark.parametrize("decimals", [0, 2, 7])
@pytest.mark.parametrize("form", ["markdown", "latex", "html"])
def test_the_chosen_decimals_are_used(form, decimals):
    solution = solved("article")
    text = rendered(form, "article", decimals, symbolic=False)
    found = set(Page(text).matrices) if form == "html" else bmatrices(text)
    missing = [what for what, matrix in expected_matrices(solution, decimals).items() if matrix not in found]
    assert not missing, f"{form} at {decimals} decimals lacks {missing[:5]}"


def test_the_article_values_match_pytorch_in_every_format():
    for form in RENDERERS:
        text = rendered(form, "article").replace("−", "-")
        for value in ("-0.3831", "-0.5747", "0.3175", "-1.0216", "-0.9253", "-0.0821", "-0.0249", "-0.2428"):
            assert value in text, f"{form} lacks the article's {value}"


# Markdown

@pytest.mark.parametrize("name", NAMES)
def test_markdown_has_a_heading_per_page_and_closed_math(name):
    text = rendered("markdown", name)
    pages = story.pages(solved(name))
    assert text.startswith("---\ntitle: ")
    assert len(re.findall(r"^## ", text, re.M)) == len(pages) + 1  # the reading guide, then the pages
    for line in text.splitlines():
        if line.startswith("$$"):
            assert line.endswith("$$") and line.count("$$") == 2, line
        else:
            assert len(re.findall(r"(?<!\\)\$", line)) % 2 == 0, f"unclosed inline math: {line}"
    assert text.count(r"\begin{bmatrix}") == text.count(r"\end{bmatrix}") > 0
    assert r"\frac{\partial J}{\partial L}" in text


def test_markdown_uses_the_articles_notation():
    text = rendered("markdown", "article")
    assert "{a_{11}^{[2]}}^{(1)}" in text and "w_{11}^{[3]}" in text and "{x_{11}}^{(1)}" in text
    assert r"Z^{[1]} = X \cdot {W^{[1]}}^{\top} + {\vec{\mathbf{b}}}^{[1]}" in text


def test_escaped_markdown_gives_the_same_math_after_a_markdown_pass():
    plain = rendered("markdown", "article")
    escaped = markdown.render(solved("article"), decimals=4, symbolic=True, escape_backslashes=True)

    def markdown_pass(text: str) -> str:
        return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)  # CommonMark's backslash escapes

    plain_math = [line for line in plain.splitlines() if line.startswith("$$")]
    escaped_math = [line for line in escaped.splitlines() if line.startswith("$$")]
    assert len(plain_math) == len(escaped_math) > 0
    assert [markdown_pass(line) for line in escaped_math] == plain_math
    assert r"\\frac" in escaped and r"\\\\" in escaped and r"a\_{11}" in escaped


# LaTeX

@pytest.mark.parametrize("name", NAMES)
def test_latex_is_a_complete_document_with_balanced_environments(name):
    text = rendered("latex", name)
    assert text.startswith(r"\documentclass")
    assert r"\usepackage{amsmath,amssymb}" in text
    assert text.rstrip().endswith(r"\end{document}")
    stack = []
    for kind, environment in re.findall(r"\\(begin|end)\{(\w+\*?)\}", text):
        if kind == "begin":
            stack.append(environment)
        else:
            assert stack and stack.pop() == environment, f"\\end{{{environment}}} out of order"
    assert not stack
    assert _brace_depth(text) == 0
    assert len(re.findall(r"\\section\*\{", text)) == len(story.pages(solved(name))) + 1  # with the reading guide


def _brace_depth(text: str) -> int:
    depth, i = 0, 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == "%":
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
            continue
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        assert depth >= 0, f"unbalanced }} near {text[max(0, i - 60):i + 10]!r}"
        i += 1
    return depth


def test_latex_allows_as_many_matrix_columns_as_the_widest_jacobian():
    for name in NAMES:
        text = rendered("latex", name)
        widest = max(step.jacobian.shape[1] for step in solved(name).steps)
        if widest > layout.DOCUMENT_COLUMNS:  # shown as its first and last columns around an elision mark
            widest = 2 * layout.DOCUMENT_KEPT_COLUMNS + 1
        allowed = int(re.search(r"\\setcounter\{MaxMatrixCols\}\{(\d+)\}", text).group(1))
        assert allowed >= widest, name


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed (texlive-latex-base)")
@pytest.mark.parametrize("name", NAMES)
def test_latex_compiles_with_pdflatex(name, tmp_path):
    (tmp_path / "walkthrough.tex").write_text(rendered("latex", name), encoding="utf-8")
    for _ in range(2):  # the second run fills in the table of contents
        run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "walkthrough.tex"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout[-3000:]
    log = (tmp_path / "walkthrough.log").read_text(errors="replace")
    pages = int(re.search(r"Output written on walkthrough\.pdf \((\d+) pages?", log).group(1))
    assert pages >= 3 and (tmp_path / "walkthrough.pdf").stat().st_size > 10_000
    too_wide = [float(points) for points in re.findall(r"Overfull \\hbox \((\d+\.\d+)pt too wide\)", log)]
    assert not [points for points in too_wide if points > 5], f"lines wider than the page: {too_wide}"


# HTML

@pytest.mark.parametrize("name", NAMES)
def test_html_is_self_contained(name):
    text = rendered("html", name)
    page = Page(text)
    assert page.errors == []
    assert not [tag for tag, _ in page.tags if tag in ("script", "link", "iframe", "img", "object", "embed")]
    for tag, attributes in page.tags:
        assert "src" not in attributes, f"<{tag} src=…>"
        for key, value in attributes.items():
            assert key != "href" or value.startswith("#"), f"<{tag} href={value!r}>"
            assert "url(" not in (value or ""), f"<{tag} {key}={value!r}>"
    assert "url(" not in page.style and "@import" not in page.style and "@font-face" not in page.style
    assert "default-src 'none'" in text
    links = {attributes["href"][1:] for _, attributes in page.tags if "href" in attributes}
    assert links <= set(page.ids), f"links to nothing: {links - set(page.ids)}"
    assert len(page.ids) == len(set(page.ids)), "an id is used twice"


@pytest.mark.parametrize("name", NAMES)
def test_html_has_mathml_pictures_and_contents(name):
    solution = solved(name)
    page = Page(rendered("html", name))
    assert page.count("math") > 50 and page.count("mfrac") > 10 and page.count("msup") > 10
    assert page.count("figure", "sparsity") == sum(not step.is_sum for step in solution.steps)
    assert page.count("figure", "graph") == steps_with_breadcrumbs(solution)
    assert page.count("g", "marked") >= len(solution.steps)
    assert page.count("nav", "contents") == 1
    assert page.count("h2") == len(story.pages(solution)) + 1  # the reading guide, then the pages
    assert "@media print" in page.style


def test_html_marks_the_node_of_each_step_in_its_graph():
    text = rendered("html", "article")
    sections = re.split(r'<section id="', text)[1:]
    step6 = next(section for section in sections if section.startswith("backward-step-6-10"))
    marked = re.findall(r'<g class="node value marked">.*?<text[^>]*>(.*?)</text>', step6)
    assert marked == ['Z<tspan class="layer" dy="-0.55em">[2]</tspan>']
    assert step6.count('class="edge backward"') == 5  # Z2 ⇠ A2 ⇠ Z3 ⇠ A3 ⇠ L ⇠ J


def test_html_dims_zeros_and_writes_true_minus_signs():
    text = rendered("html", "article")
    assert '<td class="zero">0</td>' in text
    assert "<td>−0.0137</td>" in text and "<td>-0.0137</td>" not in text


def test_without_symbolic_there_are_no_symbolic_matrices_and_no_sympy():
    for form in RENDERERS:
        text = rendered(form, "article", symbolic=False)
        assert "a_{11}" not in text and "<msubsup><mi>a</mi><mn>11</mn>" not in text
    code = ("import sys; from jacobian_bp import load, solve; from jacobian_bp.render import markdown, latex, html; "
            "s = solve(load('article')); [m.render(s, decimals=4, symbolic=False) for m in (markdown, latex, html)]; "
            "assert 'sympy' not in sys.modules, 'sympy was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


# Any network

@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(walkthroughs(max_depth=3, max_width=3, max_batch=3))
def test_any_network_exports_every_value(walkthrough):
    solution = solve(walkthrough)
    expected = expected_matrices(solution, 4)
    for form, render in RENDERERS.items():
        text = render(solution, decimals=4, symbolic=False)
        found = set(Page(text).matrices) if form == "html" else bmatrices(text)
        missing = [what for what, matrix in expected.items() if matrix not in found]
        assert not missing, f"{form} lacks {missing[:5]}"


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(walkthroughs(max_depth=2, max_width=3, max_batch=2))
def test_any_network_exports_its_symbolic_jacobians(walkthrough):
    solution = solve(walkthrough)
    assert _brace_depth(latex.render(solution, decimals=4, symbolic=True)) == 0
    page = Page(html.render(solution, decimals=4, symbolic=True))
    assert page.errors == [] and page.count("math") > 0
    assert "\\begin{bmatrix}" in markdown.render(solution, decimals=4, symbolic=True)


# The command line

@pytest.mark.parametrize(("suffix", "marker"),
                         [(".md", "$$"), (".tex", r"\documentclass"), (".html", "<!DOCTYPE html>")])
def test_the_format_follows_the_output_files_extension(tmp_path, suffix, marker):
    path = tmp_path / f"notes{suffix}"
    assert main(["walkthrough", "article", "--no-symbolic", "-o", str(path)]) == 0
    assert marker in path.read_text(encoding="utf-8")


def test_escape_backslashes_reaches_the_markdown(tmp_path, capsys):
    assert main(["walkthrough", "--format", "markdown", "--no-symbolic", "--escape-backslashes"]) == 0
    assert r"\\frac{\\partial J}" in capsys.readouterr().out


def test_a_description_people_wrote_only_gets_its_quantity_names_typeset():
    from jacobian_bp.render import formulas

    assert formulas.pieces("See [link=http://x] and </p> about Z2 and dJ/dW1.") == [
        (False, "See [link=http://x] and </p> about "), (True, "Z2"), (False, " and "), (True, "dJ/dW1"),
        (False, ".")]


def test_a_description_marks_other_formulas_with_dollars_in_every_form(tmp_path, capsys):
    path = tmp_path / "marked.toml"
    path.write_text('description = "Here $dL/dA = A − Y$ for Z1, at \\\\$5."\nloss = "mean_squared_error"\n'
                    '[data]\nX = [[1.0]]\nY = [[0.5]]\n[[layers]]\nunits = 1\nactivation = "identity"\n'
                    'W = [[2.0]]\nb = [0.0]\n', encoding="utf-8")
    solution = solve(load(str(path)))
    assert main(["walkthrough", str(path), "--no-symbolic", "--width", "100"]) == 0
    assert "Here dL/dA = A − Y for Z1, at $5." in capsys.readouterr().out
    markdown_text = RENDERERS["markdown"](solution, decimals=4, symbolic=False)
    assert r"Here $\partial L/\partial A = A - Y$ for $Z^{[1]}$, at \$5." in markdown_text
    html_text = RENDERERS["html"](solution, decimals=4, symbolic=False)
    assert "<p>Here <span class=\"formula\"><math>" in html_text and "$dL" not in html_text and "at $5." in html_text


def test_the_optimizers_state_is_typeset_as_a_quantity_in_latex_and_mathml():
    """`exp_avg_sq_W1` is the state's name with the parameter below it, not words with escaped underscores."""
    from jacobian_bp import load, solve
    from jacobian_bp.render import html, latex

    solution = solve(load("optimizers"))
    document = latex.render(solution, 4, symbolic=False)
    assert r"\text{exp\_avg\_sq}_{W^{[1]}}" in document and r"\text{exp}\_\text{avg}" not in document
    page = html.render(solution, 4, symbolic=False)
    assert "<msub><mtext>exp_avg_sq</mtext><msup><mi>W</mi>" in page


SCRIPT_DIGITS = re.compile("[\u2080-\u2089\u2070-\u2079\u00b9\u00b2\u00b3\u207d\u207e\u201a]")


@pytest.mark.parametrize("name", [*NAMES, "mnist_shape"])
def test_latex_holds_only_characters_that_pdflatex_reads(name):
    """inputenc's utf8 knows Latin-1 text; a symbol beyond it (⊗ in a structure's formula, Σ in a description's
    math) must be typeset as a command, or pdflatex stops at it."""
    unknown = sorted({character for character in rendered("latex", name) if ord(character) > 0xFF})
    assert not unknown


@pytest.mark.parametrize("name", NAMES)
def test_entry_names_in_formulas_are_typeset_not_left_as_unicode_subscripts(name):
    """`a[1]₁‚₁₀⁽¹⁾` in a sentence (the short names of a fitted symbolic form) is set as LaTeX and MathML
    sub- and superscripts: pdflatex stops at a Unicode subscript digit."""
    assert not SCRIPT_DIGITS.search(rendered("latex", name)), SCRIPT_DIGITS.search(rendered("latex", name))
    maths = re.findall(r"<math.*?</math>", rendered("html", name), flags=re.DOTALL)
    assert not [math for math in maths if SCRIPT_DIGITS.search(math)]


def _rounded_by_decimal(value: float, decimals: int) -> str:
    """`format_number` as the decimal module gives it for every number (the rule the fast rounding must keep)."""
    from decimal import ROUND_HALF_UP, Decimal

    if value == 0:
        return "0"
    rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{0:.{decimals}f}" if rounded == 0 else format(rounded, "f").rstrip("0").rstrip(".")


# Numbers of every size below a billion, and halves of the last shown place (0.0625, 2.675, -0.125): the ties.
NUMBERS = st.one_of(st.floats(min_value=-1e9 + 1, max_value=1e9 - 1, allow_nan=False, allow_subnormal=True),
                    st.builds(lambda k, shift: k / 2 ** shift, st.integers(-10 ** 6, 10 ** 6), st.integers(0, 20)),
                    st.builds(lambda k, place: float(f"{k}5e-{place}"), st.integers(-10 ** 5, 10 ** 5),
                              st.integers(1, 12)))


@settings(max_examples=2000, deadline=None)
@given(NUMBERS, st.integers(1, 12))
def test_numbers_round_half_up_from_their_shortest_decimal(value, decimals):
    """Python's formatting rounds the float itself; where the shortest decimal is no tie that is the same, and the
    ties go to the decimal module: every number reads as the decimal module rounds it."""
    assert format_number(value, decimals) == _rounded_by_decimal(value, decimals)
