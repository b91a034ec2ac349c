"""The terminal walkthrough: golden transcripts, widths, plain text, elision and the notes it must show."""

import io
import os
import pty
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from jacobian_bp.render.terminal import widgets
from jacobian_bp.render.terminal.widgets import Equation, MatrixView
from jacobian_bp.walkthrough import bundled_names
from tests.golden import FOLDER, TRANSCRIPTS, render

ESCAPE = "\x1b["


@pytest.mark.parametrize("file_name", sorted(TRANSCRIPTS))
def test_golden_transcript(file_name):
    name, width = TRANSCRIPTS[file_name]
    expected = (FOLDER / file_name).read_text(encoding="utf-8")
    assert render(name, width) == expected, f"output differs from tests/golden/{file_name}; run `make golden`"


@pytest.mark.parametrize("width", [80, 100, 60, 40])
@pytest.mark.parametrize("symbolic", [True, False])
@pytest.mark.parametrize("ascii_only", [False, True])
def test_no_line_exceeds_the_width(width, symbolic, ascii_only):
    text = render("article", width, ascii_only=ascii_only, symbolic=symbolic)
    too_long = [line for line in text.splitlines() if len(line) > width]
    assert not too_long, f"{len(too_long)} lines wider than {width}, e.g. {too_long[0]!r}"


def test_ascii_terminals_get_ascii_only():
    text = render("article", 80, ascii_only=True)
    assert not re.search(r"[^\x00-\x7f]", text)
    assert "a[2]_11^(1)" in text and "X -> Z1" in text


@pytest.mark.parametrize("name", bundled_names())
@pytest.mark.parametrize("width", [40, 80])
def test_every_bundled_walkthrough_fits_an_ascii_terminal(name, width):
    text = render(name, width, ascii_only=True)
    assert not re.search(r"[^\x00-\x7f]", text), re.search(r".*[^\x00-\x7f].*", text).group(0)
    assert all(len(line) <= width for line in text.splitlines())


def test_every_backward_page_has_a_breadcrumb_with_its_node_marked():
    text = render("article", 100)
    pages = re.split(r"\n(?=Backward step |SGD update)", text)
    backward = [page for page in pages if page.startswith("Backward step")]
    assert len(backward) == 10
    assert "X → Z1 → A1 → Z2 → A2 → Z3 → [A3] ⇠ L ⇠ J" in backward[1]
    assert "[b3] ⇠ Z3" in backward[3] and "[W3] ⇠ Z3" in backward[3]
    assert "X → Z1 → A1 → [Z2] ⇠ A2 ⇠ Z3 ⇠ A3 ⇠ L ⇠ J" in backward[5]


def test_the_relu_kink_is_explained_at_dj_dz2_and_nowhere_else():
    text = render("article", 100)
    page = text[text.index("Backward step 6/10"):text.index("Backward step 7/10")]
    note = " ".join(page[page.index("⚠"):].split())
    assert "Z2 row 1, column 1 is exactly 0" in note
    assert "ReLU'(0) = 0, as PyTorch does" in note
    assert "ReLU'(0) = 1, it would be 0.0228" in note
    assert "every gradient below layer 2 would change" in note
    assert text.count("⚠") == 2  # the convention, above the result; what it makes of the gradient, in it


def test_every_step_shows_symbolic_then_numeric_jacobian_and_confirms_the_shortcut():
    text = render("article", 100)
    assert "dZ3/dW3 = ⎡ a[2]₁₁⁽¹⁾  a[2]₁₂⁽¹⁾ ⎤ = ⎡ 0   8   ⎤" in text
    assert text.count("✓ Shortcut") == 13
    assert "dJ/dW1 = (dJ/dZ1)ᵀ · X gives the same numbers" in text


def test_no_symbolic_omits_the_symbols():
    text = render("article", 100, symbolic=False)
    assert "a[2]₁₁⁽¹⁾" not in text and "σ(" not in text
    assert "dZ3/dW3 = ⎡ 0   8   ⎤" in text


def test_decimals_change_the_rounding():
    assert "0.550129" in render("article", 100, decimals=6)
    assert "0.55 " in render("article", 100, decimals=2)


def _lines(renderable, width: int) -> list[str]:
    console = Console(width=width, record=True, color_system=None, highlight=False, file=open(os.devnull, "w"))
    console.print(renderable)
    return console.export_text().splitlines()


def test_a_matrix_wider_than_the_terminal_keeps_its_brackets_and_elides_middle_columns():
    matrix = np.arange(60.0).reshape(3, 20) / 7
    lines = _lines(MatrixView.of(matrix, 4), 50)
    assert all(len(line) <= 50 for line in lines)
    assert lines[0].startswith("⎡ 0 ") and lines[0].endswith("⎤")
    assert lines[2].startswith("⎣") and lines[2].endswith("⎦")
    assert "…" in lines[1] and lines[1].split()[-2] == "5.5714"  # the last column survives
    assert re.fullmatch(r"\(15 of 20 columns not shown\)", lines[3])


def test_a_very_tall_matrix_elides_middle_rows():
    lines = _lines(MatrixView.of(np.eye(40), 0), 200)
    assert len(lines) == 10 + 1 + 10 + 1
    assert "⋮" in lines[10] and lines[-1].startswith("(20 of 40 rows not shown")


def test_equation_stacks_what_does_not_fit_side_by_side():
    wide = MatrixView.of(np.ones((2, 8)), 0)
    lines = _lines(Equation("label =", wide, "=", wide), 40)
    assert all(len(line) <= 40 for line in lines)
    assert len(lines) >= 4
    assert _lines(Equation("label =", wide), 80)[0].startswith("label = ⎡")


def _drawn(renderable, width: int, color_system: str | None) -> list:
    console = Console(width=width, color_system=color_system, force_terminal=color_system is not None,
                      highlight=False, file=io.StringIO())
    return list(console.render(renderable, console.options))


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 4).flatmap(lambda columns: st.lists(
    st.lists(st.sampled_from([0.0, 1.5, -0.25, 12.0, 0.001, -3.0]), min_size=columns, max_size=columns),
    min_size=1, max_size=4)), st.sampled_from([60, 100]))
def test_a_matrix_drawn_in_colour_is_its_plain_text_with_every_zero_dimmed(rows, width):
    """Lines are kept as plain text and styled stretches until drawn (`widgets._Fitted`): in colour they must read
    as without colour, with the exact zeros, and only they, dimmed."""
    equation = Equation(Text("M =", style="bold"), MatrixView.of(np.array(rows), 4), "=",
                        MatrixView.of(np.array(rows).T, 4))
    coloured, plain = _drawn(equation, width, "truecolor"), _drawn(equation, width, None)
    assert "".join(segment.text for segment in coloured) == "".join(segment.text for segment in plain)
    dimmed = [segment.text.strip() for segment in coloured if segment.style and segment.style.dim]
    assert dimmed == ["0"] * (2 * sum(row.count(0.0) for row in rows))


def _run(arguments, env_extra=None, terminal=False) -> str:
    env = {name: value for name, value in os.environ.items() if name != "NO_COLOR"}
    env.update(env_extra or {})
    command = [sys.executable, "-m", "jacobian_bp", *arguments]
    if not terminal:
        return subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait()
    os.close(leader)
    return b"".join(chunks).decode("utf-8")


def test_piped_output_is_plain_text():
    output = _run(["walkthrough", "--no-symbolic"])
    assert ESCAPE not in output and "Backward step 10/10" in output


def test_terminal_output_has_colour_but_no_color_turns_it_off():
    assert ESCAPE in _run(["walkthrough", "--no-symbolic", "--width", "80"], terminal=True)
    plain = _run(["walkthrough", "--no-symbolic", "--width", "80"], {"NO_COLOR": "1"}, terminal=True)
    assert ESCAPE not in plain and "Backward step 10/10" in plain


def test_jacobians_too_large_for_symbols_show_the_corner_their_pattern_writes(tmp_path, capsys):
    from jacobian_bp.cli import main
    from jacobian_bp.render.story import SYMBOLIC_LIMIT

    path = tmp_path / "wide.toml"
    path.write_text('loss = "mean_squared_error"\n[data]\nX = [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.8]]\n'
                    'Y = [[0.0], [1.0], [0.5], [0.2]]\n[[layers]]\nunits = 12\nactivation = "tanh"\n'
                    '[[layers]]\nunits = 1\nactivation = "identity"\n', encoding="utf-8")
    assert main(["walkthrough", str(path), "--width", "100"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    # dA1/dZ1 is 48 × 48 = 2304 entries, above the limit; dZ1/dW1 is 48 × 24 = 1152, below it.
    assert 48 * 48 > SYMBOLIC_LIMIT >= 48 * 24
    assert "dA1/dZ1 has 2,304 entries, too many to write out in symbols: the symbols below are written from the " \
           "op's index pattern for the entries shown only" in out
    assert "1 - tanh(z[1]₁₁⁽¹⁾)^2" in out and "1 - tanh(z[1]₄‚₁₂⁽⁴⁾)^2" in out  # its first and last diagonal entries
    assert "dZ1/dW1 has" not in out and "x₁₁⁽¹⁾" in out


def test_a_large_jacobian_without_an_index_pattern_is_shown_in_numbers_with_a_note(tmp_path, capsys):
    from jacobian_bp.cli import main

    samples = 41  # dL/dA1 is 41 × 41, above the limit; the mean squared error has no index pattern
    path = tmp_path / "soft.toml"
    path.write_text('loss = "mean_squared_error"\n[data]\n'
                    f'X = [{", ".join(f"[{i / samples:.3f}]" for i in range(samples))}]\n'
                    f'Y = [{", ".join("[0.5]" for _ in range(samples))}]\n'
                    '[[layers]]\nunits = 1\nactivation = "sigmoid"\n', encoding="utf-8")
    assert main(["walkthrough", str(path), "--width", "100"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "∂vec(J)/∂vec(L)" in out and "dL/dA1 is shown in numbers only: with 1681 entries" in out


# Words of one-cell characters (some non-ASCII, some spaces that are not ASCII), runs of spaces, and words long enough
# to be folded, line breaks and control codes (which a rich `Text` drops): the cases the shortcuts of `widgets`
# (`Styled`, `_breaks`, `_nearest_first`) take, and those they hand to rich.
WRAPPED_TEXT = st.lists(st.one_of(st.sampled_from(["a", "∂", "₁", "ᵀ", "·", "=", " ", "  ", "\xa0", "—", "é", "\n",
                                                  "\r", "\x07"]),
                                  st.text(alphabet="xyz", min_size=1, max_size=12)), max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(WRAPPED_TEXT, st.integers(1, 30))
@example("ab cd ef", 5)  # a word that ends on the last cell stays on its line
def test_prose_wraps_as_rich_does(text, width):
    """A line broken by the widgets is broken where rich's word wrap breaks it, in the same style."""
    expected = Text(text, style="bold").wrap(Console(file=io.StringIO()), width)
    for line in expected:
        line.rstrip()
    found = widgets._wrapped(text, "bold", width)
    assert [(line.plain, str(line.style)) for line in found] == [(line.plain, str(line.style)) for line in expected]


@given(st.integers(0, 12), st.integers(-1, 14), st.integers(-4, 30))
def test_breadcrumb_keeps_nearest_crumbs_first(low, high, twice_centre):
    """The crumbs near the marked ones come in the order of their distance, the later of two as near first."""
    centre = twice_centre / 2
    assert list(widgets._nearest_first(low, high, centre)) == sorted(range(low, high + 1),
                                                               key=lambda i: (abs(i - centre), -i))


CRUMBS = st.lists(st.tuples(st.text(alphabet="ZAWb1₁ᵀ", min_size=1, max_size=5), st.booleans(),
                            st.sampled_from(["→", "⇠", ","])), min_size=1, max_size=60)


@settings(max_examples=300, deadline=None)
@given(CRUMBS, st.lists(st.text(alphabet="bW2", min_size=1, max_size=3), max_size=3), st.integers(8, 90),
       st.booleans())
@example([("X", False, "")] + [("1", i == 0, ",") for i in range(59)], [], 90, False)  # a run on one side only
@example([("1", True, "→"), ("1", False, "→"), ("11ᵀ", True, "→"), ("11ᵀ", True, "→"), ("1111", False, "→"),
          ("11", True, ","), ("1", False, "→")], ["2", "2", "2"], 63, True)  # `...` is wider than the crumb `1`
def test_a_breadcrumb_keeps_the_longest_run_around_the_marked_crumbs_that_fits(crumbs, side, width, ascii_only):
    """The path is cut to the longest run of crumbs nearest the marked ones whose line fits, measured here on the
    drawn line of every run: the widget measures only the crumbs that could ever fit, and halves."""
    from jacobian_bp.render.story import Crumb

    main = [Crumb(label, marked, "" if i == 0 else arrow) for i, (label, marked, arrow) in enumerate(crumbs)]
    side = [Crumb(label, i == 0, "" if i == 0 else "⇠") for i, label in enumerate(side)]
    breadcrumb = widgets.Breadcrumb(main, side)

    def fits(kept) -> bool:
        return widgets._cells(breadcrumb._line(kept, ascii_only).plain) <= width

    last = len(main) - 1
    expected = main
    if last >= 3 and not fits(main):
        marked = [i for i, crumb in enumerate(main) if crumb.marked] or [last]
        order = list(widgets._nearest_first(1, last - 1, (marked[0] + marked[-1]) / 2))
        runs = []
        for count in range(len(order) + 1):
            low, high = min(order[:count], default=last), max(order[:count], default=0)
            kept = [main[0]] + ([widgets._elided(main[1].arrow)] if low > 1 or high < low else [])
            kept += main[low:high + 1]
            kept += [widgets._elided(main[high + 1].arrow)] if high < last - 1 and high >= low else []
            runs.append(kept + [main[last]])
        expected = next((run for run in reversed(runs) if fits(run)), runs[0])  # the most crumbs that fit
    assert breadcrumb._fitted(width, ascii_only) == expected


def test_in_colour_every_line_keeps_its_own_style():
    """A line drawn whole in one style (the title in bold, a note in yellow, a check in green) keeps it: rich draws a
    `Text` without spans in no style at all, so the widgets hand such a line on with its style."""
    from jacobian_bp import load, solve
    from jacobian_bp.render.terminal import pages as terminal

    console = Console(record=True, width=100, force_terminal=True, color_system="truecolor", file=io.StringIO())
    solution = solve(load("article"))
    terminal.render_walkthrough(solution, console, terminal.Options(decimals=4, symbolic=False))
    lines = console.export_text(styles=True).splitlines()
    assert lines[0] == "\x1b[1m" + solution.walkthrough.title + "\x1b[0m"
    assert any(line.startswith("\x1b[33m⚠ ") for line in lines)  # a note
    assert any(line.startswith("\x1b[32m✓ Shortcut") for line in lines)  # a check


@pytest.mark.parametrize("name", bundled_names())
def test_a_terminal_without_unicode_gets_every_symbol_spelt_out(name):
    """On an ASCII terminal every symbol we write has a spelling (σ² a sigma, ⊗ and ⋆ their own, Greek letters by
    name), so no `?` stands where one was: the ASCII walkthrough has the question marks of the Unicode one only."""
    assert render(name, 100, ascii_only=True).count("?") == render(name, 100).count("?")


def test_on_an_ascii_terminal_a_standard_deviation_is_not_a_sigmoid():
    text = render("batchnorm", 100, ascii_only=True)
    assert "sqrt(sigma^2 + eps)" in text and "sigmoid^2" not in text
    assert "sigmoid'(10) = sigmoid(10)(1 - sigmoid(10))" in " ".join(render("saturated", 100, ascii_only=True).split())


WIDE_LAYER = """loss = "binary_cross_entropy"
seed = 1
[data]
X = [[0.5, -1.0], [1.0, 0.25], [-0.5, 0.75], [0.0, 1.5]]
Y = [[1.0], [0.0], [1.0], [0.0]]
[[layers]]
units = 40
activation = "tanh"
[[layers]]
units = 1
activation = "sigmoid"
"""


@pytest.mark.parametrize("width", [60, 100, 200])
def test_a_symbolic_jacobian_written_in_a_window_counts_what_it_hides_against_the_whole(tmp_path, width):
    """dZ2/dW2 is 4 × 40: in symbols it is written in the window documents show (12 of its columns), and the
    terminal may drop more of those; the note under it counts the columns hidden of all 40, never of the window."""
    path = tmp_path / "wide.toml"
    path.write_text(WIDE_LAYER)
    lines = render(str(path), width).splitlines()
    first = next(i for i, line in enumerate(lines) if "⎡ a₁₁" in line)  # the symbolic matrix's first row
    shown = len(re.findall(r"a₁(?:‚[₀-₉]+|[₀-₉])", lines[first]))  # its entries a₁ⱼ drawn (a₁‚₃₇ from 10 on)
    note = next(line for line in lines[first:] if line.lstrip().startswith("("))
    assert note.strip() == f"({40 - shown} of 40 columns not shown)"
    assert 2 <= shown <= 12


def _drawing(view: MatrixView, width: int, ascii_only: bool) -> list[tuple[str, list]]:
    return [(line.plain, list(line.spans)) for line in view.lines(width, ascii_only)]


@pytest.mark.parametrize("decimals", [2, 4])
@pytest.mark.parametrize("width", [14, 100])
@pytest.mark.parametrize("ascii_only", [False, True])
def test_a_shared_matrix_drawing_is_the_drawing_of_those_numbers(decimals, width, ascii_only):
    """Small matrices of the same numbers share one drawing: it is what drawing them anew gives, at their own
    decimals, width and alphabet, and whatever draws it later (an equation, a console) leaves it as it was."""
    from jacobian_bp.render import layout

    numbers = np.array([[0.5, -1.25, 0.0], [3.0, 0.0, 1e-7]])
    anew = MatrixView(None, None, numeric=True, source=layout.Numbers(numbers, decimals))  # no content: not shared
    expected = _drawing(anew, width, ascii_only)
    for view in (MatrixView.of(numbers.copy(), decimals), MatrixView.of(numbers, decimals)):
        assert view.content is not None and _drawing(view, width, ascii_only) == expected
        console = Console(file=io.StringIO(), width=width, color_system="truecolor", force_terminal=True)
        console.print(Equation(Text("M =", style="bold"), view))
        assert _drawing(view, width, ascii_only) == expected
    as_integers = MatrixView.of(np.array([[1, 0], [0, 1]]), decimals)  # bytes that another dtype could share
    assert _drawing(as_integers, width, ascii_only) != _drawing(MatrixView.of(np.array([[1, 0], [0, 1]]).view(float),
                                                                           decimals), width, ascii_only)
