r"""The walkthrough as a standalone LaTeX document (article class, amsmath's bmatrix) for pdflatex.

Only packages of a basic TeX installation are used (amsmath, amssymb, geometry, graphicx, color,
hyperref). Every display goes through `\fit`, which shrinks an equation that is wider than the line
(or taller than most of a page) to fit, so that the Jacobians of wider networks stay on the page.
"""

import re
import unicodedata

from ..sentences import Sentence
from . import formulas, layout

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[utf8]{inputenc}
\usepackage[a4paper,margin=2.2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{graphicx}
\usepackage{color}
\usepackage[hidelinks,pdfusetitle]{hyperref}
\definecolor{zero}{gray}{0.6}
\definecolor{muted}{gray}{0.35}
\setcounter{MaxMatrixCols}{<columns>}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.6em}
% \fit{...}: the box as it is, or shrunk to the line's width and to 0.8 of the page's height.
\newsavebox{\fitbox}
\newcommand{\fit}[1]{%
  \sbox{\fitbox}{#1}%
  \ifdim\wd\fitbox>\linewidth\sbox{\fitbox}{\resizebox{\linewidth}{!}{\usebox{\fitbox}}}\fi
  \ifdim\dimexpr\ht\fitbox+\dp\fitbox\relax>0.8\textheight
    \sbox{\fitbox}{\resizebox*{!}{0.8\textheight}{\usebox{\fitbox}}}\fi
  \usebox{\fitbox}}
\newcommand{\display}[1]{\par{\centering\fit{$\displaystyle #1$}\par}}
\title{<title>}
\date{}
"""

DIM_ZEROS = r"\color{zero}"

TEXT_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%",
    "_": r"\_", "^": r"\^{}", "~": r"\~{}", "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
    "…": r"\dots{}", "–": "--", "—": "---", "“": "``", "”": "''", "‘": "`",
    "’": "'", "✓": r"$\checkmark$",
}
GREEK_CAPITALS = {"Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega"}


@formulas.with_names
def render(solution, decimals: int, symbolic: bool) -> str:
    """The whole walkthrough as one LaTeX document that compiles with pdflatex."""
    intro = layout.introduction(solution)
    body = []
    if intro.description:
        body += [_prose(intro.description), ""]
    if intro.note:
        body += [rf"\textit{{{_prose(intro.note)}}}", ""]
    body += [r"\tableofcontents", ""]
    columns = 10
    for section in layout.sections(solution, decimals, symbolic):
        body += [_heading("section", section.title), ""]
        for block in layout.flat(section.blocks):
            body += _block(block) + [""]
            columns = max(columns, _widest(block))
    head = PREAMBLE.replace("<columns>", str(columns)).replace("<title>", _text(intro.title))
    return "\n".join([head.rstrip(), r"\begin{document}", r"\maketitle",
                      rf"\begin{{center}}\small\color{{muted}} {_text(intro.summary)}\end{{center}}", "",
                      *body, r"\end{document}", ""])


def _block(block) -> list[str]:
    if isinstance(block, layout.Jacobian):
        return _block(block.equation)
    if isinstance(block, layout.Equation):
        label = [_prose(block.label)] if block.label else []
        return label + [rf"\display{{{formulas.latex_line(line, DIM_ZEROS)}}}" for line in block.lines]
    if isinstance(block, layout.Breadcrumb):
        return [rf"\display{{\textstyle {formulas.latex_breadcrumb(block)}}}"]
    if isinstance(block, layout.Subheading):
        return [_heading("subsection", block.text)]
    if block.tone in ("note", "aside"):
        return [rf"\begin{{quote}}\textbf{{Note.}} {_prose(block.text)}\end{{quote}}"]
    if block.tone == "check":
        return [rf"$\checkmark$ {_prose(block.text)}"]
    return [_prose(block.text)]


def _widest(block) -> int:
    """The most columns of any matrix in the block (amsmath's bmatrix needs to be told above 10)."""
    equation = block.equation if isinstance(block, layout.Jacobian) else block
    if not isinstance(equation, layout.Equation):
        return 0
    shown = [len(layout.window(part.shape).columns)
             for line in equation.lines for part in line if isinstance(part, layout.Numbers | layout.Symbols)]
    return max(shown, default=0)


def _heading(level: str, title: str) -> str:
    """An unnumbered heading that still appears in the table of contents and the PDF's bookmarks."""
    text = _prose(title, bookmarks=True)
    return rf"\{level}*{{{text}}}\addcontentsline{{toc}}{{{level}}}{{{text}}}"


def _prose(sentence: Sentence | str, bookmarks: bool = False) -> str:
    """A sentence with its formulas as inline math (in headings also as plain text for PDF bookmarks)."""
    parts = []
    for is_formula, piece in formulas.pieces(sentence):
        if not is_formula:
            parts.append(_text(piece))
        elif bookmarks:
            parts.append(rf"\texorpdfstring{{${formulas.latex(piece, inline=True)}$}}{{{_bookmark(piece)}}}")
        else:
            parts.append(f"${formulas.latex(piece, inline=True)}$")
    return "".join(parts)


def _bookmark(formula: str) -> str:
    """A formula as plain ASCII, for the PDF's bookmarks, which take no math."""
    return _text(re.sub(r"[^\x20-\x7e]", "", formula.replace("ᵀ", "^T").replace("·", "*").replace("−", "-")))


def _text(text: str) -> str:
    """Text with LaTeX's special characters escaped and every other character written so that pdflatex takes it."""
    return "".join(TEXT_SPECIAL.get(character) or _character(character) for character in text)


def _character(character: str) -> str:
    """Symbols, Greek letters, sub- and superscripts as math; other Latin-1 as it is (inputenc knows it)."""
    symbol = formulas.LATEX_SYMBOLS.get(character)
    if symbol and not character.isascii():
        return f"${symbol}$"
    if ord(character) < 256:
        return character
    name = unicodedata.name(character, "")
    greek = re.fullmatch(r"GREEK (SMALL|CAPITAL) LETTER (\w+)", name)
    if greek:
        letter = greek.group(2).lower() if greek.group(1) == "SMALL" else greek.group(2).capitalize()
        if letter != "omicron" and (letter.islower() or letter in GREEK_CAPITALS):
            return f"$\\{letter}$"
    decomposition = unicodedata.decomposition(character).split()
    if len(decomposition) == 2 and decomposition[0] in ("<super>", "<sub>"):
        script = "^" if decomposition[0] == "<super>" else "_"
        return f"${script}{{{_text(chr(int(decomposition[1], 16)))}}}$"
    return unicodedata.normalize("NFKD", character).encode("ascii", "ignore").decode() or "?"
