"""Formulas: our Unicode text (`dJ/dZ2 = dJ/dA2 ⊙ relu'(Z2)`), read as tokens and written in the
article's notation as LaTeX (`\\frac{\\partial J}{\\partial Z^{[2]}}`) or MathML; `pieces` gives a
sentence's words and formulas as they were written (`sentences.say`), and finds the names of
quantities in text people wrote. Shared by the Markdown, LaTeX and HTML documents.
"""

import contextlib
import contextvars
import functools
import html
import re
from dataclasses import dataclass

from ..entries import Term
from ..optimizers import OPTIMIZERS
from ..sentences import Math, Sentence, written
from . import story, terms
from .layout import BOTH_MARK, COLUMNS_MARK, ROWS_MARK, Breadcrumb, Expression, Gap, Numbers, Symbols, window

# Formulas: our Unicode text, read as tokens, written as LaTeX or MathML.

# The article's names, for formulas written outside any walkthrough; `names_of` puts a walkthrough's own
# variables (S2, ZP, Wskip, …) in their place while its documents are written.
_ARTICLE_NAMES = r"(?:[XYLJR]|[ZAWS]\d+|b\d+)"
_NOT_AFTER_NAME = r"(?![A-Za-z0-9_'])"
# The optimizers' state, named before its parameter (`exp_avg_sq_W1`): typeset as the state with the parameter below.
_STATES = "|".join(sorted({state for optimizer in OPTIMIZERS.values() for state in optimizer.state_names},
                          key=len, reverse=True))


def _tokenizer(names: str) -> re.Pattern:
    """The formula tokens, with `names` (a regex alternative) as the names of quantities."""
    differentiated = rf"(?:{names}|[A-Z]\d*)"  # also `dL/dA` of a formula that speaks of any layer
    return re.compile(rf"""
    (?P<entry>{terms.ENTRY.pattern})
  | (?P<partial>∂vec\((?P<partial_function>{names})\)/∂vec\((?P<partial_variable>{names})\))
  | (?P<derivative>d(?P<function>{differentiated})/d(?P<variable>{differentiated})){_NOT_AFTER_NAME}
  | (?P<name>(?:(?:{_STATES})_)?(?P<base>{names})(?P<updated>_updated)?){_NOT_AFTER_NAME}(?P<power>[ᵀ²]?)
  | (?P<call>(?:[A-Za-z]{{2,}}|σ)'?²?)(?=\()
  | (?P<number>\d+(?:\.\d+)?(?:e[-+]?\d+)?)
  | (?P<word>[A-Za-z][A-Za-z'-]*)
  | (?P<space>\s+)
  | (?P<symbol>.)
""", re.VERBOSE)


_ARTICLE_TOKEN = _tokenizer(_ARTICLE_NAMES)
_TOKEN: contextvars.ContextVar[re.Pattern | None] = contextvars.ContextVar("formula_tokens", default=None)


def with_names(render):
    """A document renderer `render(solution, …)` whose formulas typeset the solution's own variables."""
    @functools.wraps(render)
    def rendered(solution, *args, **kwargs):
        with names_of(solution.graph):
            return render(solution, *args, **kwargs)
    return rendered


@contextlib.contextmanager
def names_of(graph):
    """While a walkthrough's document is written, its variables are the names its formulas typeset."""
    names = sorted({*graph.data, *graph.computed, *graph.parameters}, key=len, reverse=True)
    token = _TOKEN.set(_tokenizer("(?:" + "|".join(re.escape(name) for name in names) + ")"))
    try:
        yield
    finally:
        _TOKEN.reset(token)


_OPERATORS = set("=·⊙⊗−+/×÷ᵀ²±√→⇠≈≤≥⋆∗")


@dataclass(frozen=True)
class _Token:
    group: str  # the name of the regex group that matched
    text: str
    match: re.Match


_GROUPS = ("entry", "partial", "derivative", "name", "call", "number", "word", "space", "symbol")


def _tokens(text: str) -> list[_Token]:
    return [_Token(next(group for group in _GROUPS if match.group(group) is not None), match.group(), match)
            for match in (_TOKEN.get() or _ARTICLE_TOKEN).finditer(text)]


def _is_identifier(token: _Token) -> bool:
    """A single letter such as `m` or `i` reads as a variable, not as a word."""
    return token.group == "word" and len(token.text) == 1


def _formula_tokens(formula: str) -> list[_Token]:
    """The tokens of a formula, with words and the single spaces between them joined into phrases."""
    tokens: list[_Token] = []
    for token in _tokens(formula):
        phrase = tokens[-2:] if len(tokens) >= 2 else []
        if (token.group == "word" and not _is_identifier(token) and len(phrase) == 2 and phrase[1].text == " "
                and phrase[0].group == "word" and not _is_identifier(phrase[0])):
            tokens[-2:] = [_Token("word", f"{phrase[0].text} {token.text}", phrase[0].match)]
        else:
            tokens.append(token)
    return tokens


def _next_to_words(tokens: list[_Token], i: int) -> bool:
    """Whether a space sits beside a word, where it must stay visible inside math."""
    neighbours = [tokens[j] for j in (i - 1, i + 1) if 0 <= j < len(tokens)]
    return any(t.group == "word" and not _is_identifier(t) for t in neighbours)


def _balanced(tokens: list[_Token]) -> bool:
    depth = 0
    for token in tokens:
        depth += {"(": 1, ")": -1}.get(token.text, 0)
        if depth < 0:
            return False
    return depth == 0


# LaTeX

LATEX_SYMBOLS = {
    "‖": r"\|",
    "·": r"\cdot", "⊙": r"\odot", "⊗": r"\otimes", "−": "-", "×": r"\times", "÷": r"\div", "±": r"\pm", "√": r"\surd",
    "→": r"\to", "⇠": r"\dashleftarrow", "≈": r"\approx", "≤": r"\le", "≥": r"\ge", "σ": r"\sigma",
    "ᵀ": r"^{\top}", "²": "^{2}", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&", "#": r"\#", "$": r"\$",
    "_": r"\_", "…": r"\dots", "∂": r"\partial", "~": r"\sim", "^": r"\hat{}", "\\": r"\backslash",
    "⋆": r"\star", "∗": r"\ast", "γ": r"\gamma", "β": r"\beta", "Σ": r"\sum", "μ": r"\mu", "δ": r"\delta", "Φ": r"\Phi",
    "φ": r"\varphi", "°": r"^{\circ}", "′": "'", "ẑ": r"\hat{z}",
}


def latex_name(name: str) -> str:
    """A quantity in the article's notation: `W3` → `W^{[3]}`, `b2` → `{\\vec{\\mathbf{b}}}^{[2]}`.

    >>> latex_name("Z2"), latex_name("b1_updated"), latex_name("X"), latex_name("exp_avg_sq_W2")
    ('Z^{[2]}', '{\\\\vec{\\\\mathbf{b}}}^{[1]}_{\\\\text{updated}}', 'X', '\\\\text{exp\\\\_avg\\\\_sq}_{W^{[2]}}')
    """
    state, name = _state(name)
    letters, layer, suffix = _split(name)
    escaped = letters.replace("_", r"\_")
    core = r"{\vec{\mathbf{b}}}" if letters == "b" else letters if len(letters) == 1 else rf"\mathit{{{escaped}}}"
    text = f"{core}^{{[{layer}]}}" if layer else core
    text += rf"_{{\text{{{suffix}}}}}" if suffix else ""
    if state:
        written_state = state.replace("_", r"\_")
        return rf"\text{{{written_state}}}_{{{text}}}"
    return text


def _state(name: str) -> tuple[str, str]:
    """`exp_avg_sq_W1` → (`exp_avg_sq`, `W1`): the optimizer's state and its parameter; ("", name) for any other."""
    match = re.fullmatch(rf"({_STATES})_(.+)", name)
    return (match[1], match[2]) if match else ("", name)


def _split(name: str) -> tuple[str, str, str]:
    """`W3_updated` → (`W`, `3`, `updated`): the letters, the layer number and the suffix of a quantity's name."""
    base = name.removesuffix("_updated")
    suffix = "updated" if base != name else ""
    letters = base.rstrip("0123456789")
    return letters, base[len(letters):], suffix


def latex(formula: str, inline: bool = False) -> str:
    r"""A formula of ours as LaTeX math; `inline` writes derivatives as `\partial J/\partial L`, not as fractions.

    >>> latex("dJ/dZ3 = dJ/dA3 ⊙ A3 ⊙ (1 − A3)", inline=True)
    '\\partial J/\\partial Z^{[3]} = \\partial J/\\partial A^{[3]} \\odot A^{[3]} \\odot (1 - A^{[3]})'
    >>> latex("(dJ/dZ1)ᵀ · X")
    '\\left(\\frac{\\partial J}{\\partial Z^{[1]}}\\right)^{\\top} \\cdot X'
    """
    tokens = _formula_tokens(formula)
    stretchy = not inline and _balanced(tokens)
    text = ""
    for i, token in enumerate(tokens):
        piece = _latex_token(tokens, i, inline)
        if stretchy and token.text in "()":
            piece = {"(": r"\left(", ")": r"\right)"}[token.text]
        if re.search(r"\\[A-Za-z]+$", text) and re.match(r"[A-Za-z]", piece):
            text += " "
        text += piece
    return text.strip()


def _latex_token(tokens: list[_Token], i: int, inline: bool) -> str:
    token = tokens[i]
    match = token.match
    if token.group == "entry":  # one entry of a matrix, `a[1]₁‚₁₀⁽¹⁾`
        return terms.latex(Term(token.text, token.text))
    if token.group == "partial":
        top = rf"\partial\,\operatorname{{vec}}({latex_name(match['partial_function'])})"
        bottom = rf"\partial\,\operatorname{{vec}}({latex_name(match['partial_variable'])})"
        return f"{top}/{bottom}" if inline else rf"\frac{{{top}}}{{{bottom}}}"
    if token.group == "derivative":
        top, bottom = rf"\partial {latex_name(match['function'])}", rf"\partial {latex_name(match['variable'])}"
        return f"{top}/{bottom}" if inline else rf"\frac{{{top}}}{{{bottom}}}"
    if token.group == "name":
        name = latex_name(match["name"])
        power = LATEX_SYMBOLS.get(match["power"], "")
        return f"{{{name}}}{power}" if power and "^" in name else name + power
    if token.group == "call":
        function = token.text.rstrip("'²")
        name = r"\sigma" if function == "σ" else rf"\operatorname{{{function}}}"
        return name + "'" * ("'" in token.text) + "^{2}" * ("²" in token.text)
    if token.group == "number" or _is_identifier(token):
        return token.text
    if token.group == "word":
        return rf"\text{{{token.text}}}"
    if token.group == "space":
        return r"\ " if _next_to_words(tokens, i) else " "
    return LATEX_SYMBOLS.get(token.text, token.text)


_LATEX_ARROWS = {story.FORWARD_ARROW: r"\rightarrow", story.BACKWARD_ARROW: r"\dashleftarrow", ",": ",\\;", "": ""}


# The elision marks of a matrix shown in part (`layout.window`), in LaTeX.
LATEX_MARKS = {ROWS_MARK: r"\vdots", COLUMNS_MARK: r"\cdots", BOTH_MARK: r"\ddots"}


def latex_matrix(matrix: "Numbers | Symbols", dim_zeros: str = "") -> str:
    r"""A matrix as `\begin{bmatrix} … \end{bmatrix}`; with `dim_zeros` (e.g. `\color{gray}`) zeros are dimmed.

    >>> import numpy as np
    >>> print(latex_matrix(Numbers(np.array([[0.0, -0.5], [1.0, 2.0]]), 4)))
    \begin{bmatrix} 0 & -0.5 \\ 1 & 2 \end{bmatrix}
    """
    if isinstance(matrix, Symbols) and matrix.corner:
        rows = [[(LATEX_MARKS[entry] if isinstance(entry, str) else terms.latex(entry), zero)
                 for entry, zero in row] for row in matrix.pattern_rows()]
    elif isinstance(matrix, Symbols):
        from .. import symbolic

        rows = [[(LATEX_MARKS.get(entry, "") if isinstance(entry, str) else symbolic.latex(entry), zero)
                 for entry, zero in row] for row in matrix.rows()]
    else:
        rows = [[(LATEX_MARKS.get(text, text), zero) for text, zero in row] for row in matrix.rows()]
    body = r" \\ ".join(" & ".join(f"{{{dim_zeros}{text}}}" if zero and dim_zeros else text for text, zero in row)
                         for row in rows)
    note = window(matrix.shape).note()
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}" + (rf"\;\text{{\scriptsize {note}}}" if note else "")


def latex_line(parts: tuple, dim_zeros: str = "") -> str:
    r"""One line of an `Equation` as LaTeX math: formulas, matrices and `\qquad` for gaps."""
    return " ".join(r"\qquad" if isinstance(part, Gap) else latex(part) if isinstance(part, str)
                    else _latex_expression(part) if isinstance(part, Expression)
                    else latex_matrix(part, dim_zeros) for part in parts)


def _latex_expression(part: Expression) -> str:
    from .. import symbolic

    return f"{symbolic.latex(part.left)} = {symbolic.latex(part.right)}"


def latex_breadcrumb(breadcrumb: Breadcrumb) -> str:
    """The breadcrumb as LaTeX math: marked nodes boxed, walked edges as dashed arrows pointing back."""
    def path(crumbs) -> str:
        return " ".join(f"{_LATEX_ARROWS[crumb.arrow]} "
                        + (rf"\boxed{{{latex(crumb.label)}}}" if crumb.marked else latex(crumb.label))
                        for crumb in crumbs).strip()

    return path(breadcrumb.main) + (rf" \qquad {path(breadcrumb.side)}" if breadcrumb.side else "")


# MathML

_MATHML_SYMBOLS = {"·": "⋅", "−": "−", "-": "−", "'": "′", "ᵀ": "⊤"}
_BOLD_B = "𝐛"  # under a small arrow, like LaTeX's `\vec{\mathbf{b}}`


def _element(tag: str, *children: str, **attributes: str) -> str:
    attrs = "".join(f' {key.rstrip("_")}="{value}"' for key, value in attributes.items())
    return f"<{tag}{attrs}>{''.join(children)}</{tag}>"


def _layer(number: str) -> str:
    return _element("mrow", _element("mo", "[", stretchy="false"), _element("mn", number),
                    _element("mo", "]", stretchy="false"))


def mathml_name(name: str) -> str:
    """A quantity as MathML in the article's notation: `W3` is W with `[3]` above, `b` is a bold vector, an
    optimizer's state `exp_avg_W1` is its name with the parameter below."""
    state, name = _state(name)
    if state:
        return _element("msub", _element("mtext", state), mathml_name(name))
    letter, layer, suffix = _split(name)
    core = (_element("mover", _element("mi", _BOLD_B), _element("mo", "→", stretchy="false", mathsize="60%"),
                     accent="true")
            if letter == "b" else _element("mi", letter))
    if layer and suffix:
        return _element("msubsup", core, _element("mtext", suffix), _layer(layer))
    if layer:
        return _element("msup", core, _layer(layer))
    return core


def mathml(formula: str, inline: bool = False) -> str:
    """A formula of ours as presentation MathML (the inside of `<math>`); `inline` avoids fractions.

    >>> mathml("dJ/dL")
    '<mfrac><mrow><mi>∂</mi><mi>J</mi></mrow><mrow><mi>∂</mi><mi>L</mi></mrow></mfrac>'
    """
    out: list[str] = []
    openings: list[int] = []
    group_start = None  # where the group closed by the previous token, a `)`, begins
    tokens = _formula_tokens(formula)
    for i, token in enumerate(tokens):
        if token.group == "symbol" and token.text in "ᵀ²":
            # A power applies to the whole group before it: `(dJ/dZ3)ᵀ`.
            start = group_start if group_start is not None else max(len(out) - 1, 0)
            out[start:] = [_element("msup", _element("mrow", *out[start:]), _power(token.text))]
            group_start = None
            continue
        group_start = None
        if token.text == "(":
            openings.append(len(out))
        elif token.text == ")" and openings:
            group_start = openings.pop()
            if "<mfrac" not in "".join(out[group_start:]):
                # Parentheses stretch only around fractions; around `Z[2]` they would leave gaps.
                out[group_start] = _element("mo", "(", stretchy="false")
                out.append(_element("mo", ")", stretchy="false"))
                continue
        out.append(_mathml_token(tokens, i, inline))
    return "".join(out)


def _power(symbol: str) -> str:
    return _element("mi", "⊤") if symbol == "ᵀ" else _element("mn", "2")


def _mathml_token(tokens: list[_Token], i: int, inline: bool) -> str:
    token = tokens[i]
    match = token.match
    if token.group == "entry":
        return terms.mathml(Term(token.text, token.text))
    if token.group == "partial":
        top, bottom = (_element("mrow", _element("mi", "∂"), _element("mi", "vec"),
                                _element("mo", "(", stretchy="false"), mathml_name(match[group]),
                                _element("mo", ")", stretchy="false"))
                       for group in ("partial_function", "partial_variable"))
        return _fraction(top, bottom, inline)
    if token.group == "derivative":
        top = _element("mrow", _element("mi", "∂"), mathml_name(match["function"]))
        bottom = _element("mrow", _element("mi", "∂"), mathml_name(match["variable"]))
        return _fraction(top, bottom, inline)
    if token.group == "name":
        name = mathml_name(match["name"])
        return _element("msup", name, _power(match["power"])) if match["power"] else name
    if token.group == "call":
        name = _element("mi", html.escape(token.text.rstrip("'²")))
        if "'" in token.text or "²" in token.text:
            name = _element("msup", name, _element("mo", "′") if "'" in token.text else _element("mn", "2"))
        return name + _element("mo", "&#x2061;")
    if token.group == "number":
        return _element("mn", token.text)
    if _is_identifier(token):
        return _element("mi", token.text)
    if token.group == "word":
        return _element("mtext", html.escape(token.text))
    if token.group == "space":
        return _element("mspace", width="0.3em") if _next_to_words(tokens, i) else ""
    previous = _neighbour(tokens, i, -1)
    if token.text in "−-" and (previous is None or previous.text == "(" or previous.text in _OPERATORS):
        return _element("mo", "−", form="prefix")  # a sign, not a subtraction: no space after it
    if token.text in "|[]":
        return _element("mo", token.text, stretchy="false", lspace="0", rspace="0")
    return _element("mo", html.escape(_MATHML_SYMBOLS.get(token.text, token.text)))


def _fraction(top: str, bottom: str, inline: bool) -> str:
    if inline:
        return _element("mrow", top, _element("mo", "/", lspace="0", rspace="0"), bottom)
    return _element("mfrac", top, bottom)


# Formulas inside sentences

def pieces(text: Sentence | str) -> list[tuple[bool, str]]:
    """A sentence as text and formulas, `(is_formula, text)` in order.

    A `Sentence` of ours gives its parts as they were written. Text people wrote (a walkthrough's
    description, a plain `str`) has the formulas it marks with `$…$` (`sentences.written`), and its
    names of quantities (`Z2`, `dJ/dW1`, `∂vec(L)/∂vec(A3)`), found by the tokenizer of the
    walkthrough's own names.

    >>> from jacobian_bp.sentences import math, say
    >>> pieces(say("Shortcut ", math("dJ/db3 ="), " column sums of ", math("dJ/dZ3"), "."))
    [(False, 'Shortcut '), (True, 'dJ/db3 ='), (False, ' column sums of '), (True, 'dJ/dZ3'), (False, '.')]
    >>> pieces("Compare Z2 with dJ/dW1 here.")
    [(False, 'Compare '), (True, 'Z2'), (False, ' with '), (True, 'dJ/dW1'), (False, ' here.')]
    """
    if isinstance(text, Sentence):
        return [(isinstance(part, Math), str(part)) for part in text.parts]
    result: list[tuple[bool, str]] = []
    for part in written(text).parts:
        for is_name, piece in ([(True, part.text)] if isinstance(part, Math) else
                               [(t.group in ("partial", "derivative", "name"), t.text) for t in _tokens(part)]):
            if result and not is_name and not result[-1][0]:
                result[-1] = (False, result[-1][1] + piece)
            else:
                result.append((is_name, piece))
    return result


def _neighbour(tokens: list[_Token], i: int, direction: int) -> _Token | None:
    """The nearest token that is not a space, before (-1) or after (+1) token `i`."""
    j = i + direction
    while 0 <= j < len(tokens) and tokens[j].group == "space":
        j += direction
    return tokens[j] if 0 <= j < len(tokens) else None
