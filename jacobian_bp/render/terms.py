"""Entries written from an op's index pattern (`entries.Term`), as LaTeX and MathML, without sympy.

The symbols of a Jacobian too large to write out whole are written for the corner a page shows only,
from the op's index pattern, as text. Documents set that text as math: each entry name
(`a[2]₁₁⁽¹⁾`) in the article's notation as `symbolic` writes it, products as `·`, functions upright.
"""

import re
from html import escape

from ..entries import LATEX_LETTERS, Term

# An entry's name in a term: its letter, its layer in brackets, its indices as subscripts and its sample.
ENTRY = re.compile(r"(?P<letter>gamma|beta|[a-zA-Zẑ])(?:\[(?P<layer>\d+)\])?(?P<indices>[₀-₉‚]+)"
                   r"(?:⁽(?P<sample>[⁰-⁹¹²³]+)⁾)?")
FUNCTION = re.compile(r"(?P<name>tanh|log|exp|max|sign|sigmoid)(?=\()")
DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉‚⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789,0123456789")
LATEX_SIGNS = {"·": r"\cdot ", "σ": r"\sigma ", "−": "-", "%": r"\%", "&": r"\&", "#": r"\#"}


def _pieces(text: str):
    """The text split into entry names (as matches) and the text between them (as strings)."""
    position = 0
    for match in ENTRY.finditer(text):
        if match.start() > position:
            yield text[position:match.start()]
        yield match
        position = match.end()
    if position < len(text):
        yield text[position:]


def latex(term: Term) -> str:
    """The term as LaTeX math: `a[2]₁₁⁽¹⁾·(1 - a[2]₁₁⁽¹⁾)` → `{a_{11}^{[2]}}^{(1)} \\cdot (1 - …)`."""
    parts = []
    for piece in _pieces(term.unicode):
        if isinstance(piece, str):
            piece = FUNCTION.sub(lambda found: rf"\operatorname{{{found['name']}}}", piece)
            piece = re.sub(r"\^(\d+)", r"^{\1}", piece)
            parts.append("".join(LATEX_SIGNS.get(character, character) for character in piece))
            continue
        core = f"{LATEX_LETTERS.get(piece['letter'], piece['letter'])}_{{{piece['indices'].translate(DIGITS)}}}"
        core += f"^{{[{piece['layer']}]}}" if piece["layer"] else ""
        parts.append(f"{{{{{core}}}^{{({piece['sample'].translate(DIGITS)})}}}}" if piece["sample"] else f"{{{core}}}")
    return "".join(parts)


def _bracketed(opening: str, number: str, closing: str) -> str:
    return (f'<mrow><mo stretchy="false">{opening}</mo><mn>{number}</mn>'
            f'<mo stretchy="false">{closing}</mo></mrow>')


def mathml(term: Term) -> str:
    """The term as presentation MathML (inside `<math>`), names as `symbolic.mathml` writes them."""
    parts = []
    for piece in _pieces(term.unicode):
        if isinstance(piece, str):
            for power in re.findall(r"\^(\d+)", piece):  # a power: the number raised after what precedes it
                piece = piece.replace(f"^{power}", f"\0{power}\0", 1)
            for token in re.findall(r"\0\d+\0|[A-Za-z]+|\d+(?:\.\d+)?|\S", piece):
                if token[0] == "\0":
                    parts.append(f"<msup><mrow></mrow><mn>{token.strip(chr(0))}</mn></msup>")
                elif token[0].isdigit():
                    parts.append(f"<mn>{token}</mn>")
                elif token[0].isalpha() and token.isascii() or token == "σ":
                    parts.append(f"<mi>{escape(token)}</mi>")
                else:
                    parts.append(f"<mo>{escape({'-': '−', '·': '⋅'}.get(token, token))}</mo>")
            continue
        base, indices = f"<mi>{piece['letter']}</mi>", f"<mn>{piece['indices'].translate(DIGITS)}</mn>"
        core = (f"<msubsup>{base}{indices}{_bracketed('[', piece['layer'], ']')}</msubsup>" if piece["layer"]
                else f"<msub>{base}{indices}</msub>")
        parts.append(f"<msup>{core}{_bracketed('(', piece['sample'].translate(DIGITS), ')')}</msup>"
                     if piece["sample"] else core)
    return f"<mrow>{''.join(parts)}</mrow>"
