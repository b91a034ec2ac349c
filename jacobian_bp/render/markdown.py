"""The walkthrough as Markdown in the article's style: a heading per step and every matrix as display math.

Math is written for renderers that pass `$…$` and `$$…$$` through to MathJax or KaTeX untouched (Hugo's
goldmark passthrough, pandoc, GitHub). `escape_backslashes` is for renderers that read the math as
Markdown first: it doubles every backslash and escapes every `_` inside the math, so that what
reaches MathJax is the LaTeX we wrote.
"""

import re

from ..numbers import format_number
from ..sentences import Sentence
from . import formulas, layout

MARKDOWN_SPECIAL = re.compile(r"([\\`*_<>#|$])")


@formulas.with_names
def render(solution, decimals: int, symbolic: bool, escape_backslashes: bool = False) -> str:
    """The whole walkthrough as one Markdown document."""
    writer = _Writer(escape_backslashes)
    intro = layout.introduction(solution)
    lines = ["---", f"title: {_yaml_string(intro.title)}", "---", "", f"*{_escape(intro.summary)}*", ""]
    if intro.description:
        lines += [writer.prose(intro.description), ""]
    if intro.note:
        lines += [f"> {writer.prose(intro.note)}", ""]
    for section in layout.sections(solution, decimals, symbolic):
        lines += writer.section(section)
    return "\n".join(lines).rstrip() + "\n"


@formulas.with_names
def sections_only(solution, sections: list) -> str:
    """Some pages of the walkthrough (one backward step, one training step) as Markdown, without the title."""
    writer = _Writer(escape_backslashes=False)
    return "\n".join(line for section in sections for line in writer.section(section)).rstrip() + "\n"


class _Writer:
    """Turns blocks into Markdown lines; knows whether math must survive a Markdown pass."""

    def __init__(self, escape_backslashes: bool):
        self.escape_backslashes = escape_backslashes

    def math(self, latex: str) -> str:
        if self.escape_backslashes:
            return latex.replace("\\", "\\\\").replace("_", r"\_").replace("*", r"\*")
        return latex

    def prose(self, text: Sentence | str) -> str:
        """A sentence with its formulas as inline math (see `formulas.pieces`)."""
        return "".join(f"${self.math(formulas.latex(piece, inline=True))}$" if is_formula else _escape(piece)
                       for is_formula, piece in formulas.pieces(text))

    def section(self, section: layout.Section) -> list[str]:
        """One page: its heading, then its blocks."""
        lines = [f"## {self.prose(section.title)}", ""]
        for block in layout.flat(section.blocks):
            lines += self.block(block) + [""]
        return lines

    def display(self, latex: str) -> str:
        return f"$${self.math(latex)}$$"

    def block(self, block) -> list[str]:
        if isinstance(block, layout.Jacobian):
            return self.block(block.equation)
        if isinstance(block, layout.Equation):
            label = [self.prose(block.label), ""] if block.label else []
            return label + [self.display(formulas.latex_line(line)) for line in block.lines]
        if isinstance(block, layout.Breadcrumb):
            return [f"${self.math(formulas.latex_breadcrumb(block))}$"]
        if isinstance(block, layout.Subheading):
            return [f"### {self.prose(block.text)}"]
        if isinstance(block, layout.Curve):
            return ["| | J |", "|---|---|"] + [f"| {layout.cost_label(i, len(block.costs))} | "
                                               f"{format_number(cost, block.decimals)} |"
                                               for i, cost in enumerate(block.costs)]
        if block.tone in ("note", "aside"):
            return [f"> ⚠ {self.prose(block.text)}"]
        if block.tone == "check":
            return [f"✓ {self.prose(block.text)}"]
        return [self.prose(block.text)]


def _escape(text: str) -> str:
    r"""Text with Markdown's special characters escaped, so that it shows as written.

    Brackets are left alone, because `\[` opens display math under Hugo's passthrough; only a `]`
    that would close a link is written as an entity.

    >>> print(_escape("Z2[1,1] *is* [a](b)"))
    Z2[1,1] \*is\* [a&#93;(b)
    """
    return MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("](", "&#93;(").replace("][", "&#93;[")


def _yaml_string(text: str) -> str:
    """A YAML double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
