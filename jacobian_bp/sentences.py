"""Sentences of ours as structure: words and formulas are kept apart where a sentence is written, so
that no renderer has to guess which part of it is mathematics.

>>> line = say("Shortcut ", math("dJ/db3 ="), " column sums of ", math("dJ/dZ3"), ".")
>>> str(line)
'Shortcut dJ/db3 = column sums of dJ/dZ3.'
>>> [type(part).__name__ for part in line.parts]
['str', 'Math', 'str', 'Math', 'str']
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Math:
    """A formula inside a sentence, in the tool's plain notation (`dJ/dZ2 = dJ/dA2 · dA2/dZ2`):
    documents typeset it (LaTeX, MathML); the terminal prints it as it is."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Sentence:
    """Words (`str`) and formulas (`Math`) in reading order; `str()` gives the plain sentence."""

    parts: tuple[str | Math, ...]

    def __str__(self) -> str:
        return "".join(map(str, self.parts))

    def __add__(self, other: Sentence | Math | str) -> Sentence:
        return say(self, other)

    def __radd__(self, other: Sentence | Math | str) -> Sentence:
        return say(other, self)

    def __bool__(self) -> bool:
        return bool(self.parts)


def math(text: str) -> Math:
    """A formula to be set as mathematics inside a sentence."""
    return Math(text)


def say(*parts: str | Math | Sentence) -> Sentence:
    """A sentence from words, formulas and other sentences, in order; neighbouring words are joined."""
    joined: list[str | Math] = []
    for part in parts:
        for piece in part.parts if isinstance(part, Sentence) else (part,):
            if isinstance(piece, Math):
                if piece.text:
                    joined.append(piece)
            elif piece:
                if joined and isinstance(joined[-1], str):
                    joined[-1] += piece
                else:
                    joined.append(piece)
    return Sentence(tuple(joined))


def join(sentences, separator: str = " ") -> Sentence:
    """Sentences one after the other, with `separator` between them."""
    parts: list[str | Math | Sentence] = []
    for i, sentence in enumerate(sentences):
        parts += [separator, sentence] if i else [sentence]
    return say(*parts)


def equals(left: str, right: Sentence) -> Sentence:
    """`left = right` where `right` may hold words ("column sums of dJ/dZ3"): one formula when `right`
    opens with one, so that `dJ/dZ3 = dJ/dA3 ⊙ …` is set as a single equation."""
    first, *rest = right.parts or ("",)
    if isinstance(first, Math):
        return say(math(f"{left} = {first.text}"), *rest)
    return say(math(f"{left} ="), " ", right)


_MARKED_FORMULA = re.compile(r"(?<!\\)\$(.+?)(?<!\\)\$", re.S)


def written(text: str) -> Sentence:
    """Text people wrote (a walkthrough's description), where `$…$` marks a formula as in Markdown and
    `\\$` is a dollar sign.

    >>> written(r"Here $dL/dA = A − Y$, for \\$5.").parts
    ('Here ', Math(text='dL/dA = A − Y'), ', for $5.')
    """
    parts: list[str | Math] = []
    end = 0
    for found in _MARKED_FORMULA.finditer(text):
        parts += [text[end:found.start()].replace("\\$", "$"), math(found.group(1).replace("\\$", "$"))]
        end = found.end()
    return say(*parts, text[end:].replace("\\$", "$"))
