"""The walkthrough as one self-contained HTML page: MathML formulas, bracketed tables, inline SVG pictures.

Nothing is fetched from anywhere: the style sheet is inline, the pictures are inline SVG, there are no
scripts and no web fonts, and a Content-Security-Policy forbids loading anything else, so the page
opens the same offline, from a USB stick or as an e-mail attachment. Formulas are MathML, which
browsers lay out natively; numeric matrices are tables with CSS-drawn brackets and dimmed zeros.
"""

from html import escape

from ..numbers import format_number
from ..sentences import Sentence, join, math, say
from . import formulas, layout, story, terms

GRAPH_STEP, NODE_WIDTH, NODE_HEIGHT, PARAMETER_WIDTH, PARAMETER_HEIGHT = 72, 46, 30, 36, 24
GRAPH_MAIN_Y, GRAPH_SIDE_Y, GRAPH_MARGIN, GRAPH_ARC = 84, 24, 6, 34
SPARSITY_SIZE = 168
SPARSITY_GRID = 84  # squares a side, at most, in the picture of a Jacobian too large to draw entry by entry


@formulas.with_names
def render(solution, decimals: int, symbolic: bool) -> str:
    """The whole walkthrough as one HTML document."""
    intro = layout.introduction(solution)
    sections = layout.sections(solution, decimals, symbolic)
    header = ['<p class="kicker">Backpropagation with every Jacobian written out</p>',
              f"<h1>{escape(intro.title)}</h1>", f'<p class="summary">{escape(intro.summary)}</p>']
    if intro.description:
        header.append(f"<p>{_prose(intro.description)}</p>")
    if intro.note:
        header.append(f'<p class="remark">{_prose(intro.note)}</p>')
    body = [_section(solution, section) for section in sections]
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">',
        f"<title>{escape(intro.title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        '<div class="layout">',
        _contents(sections),
        "<main>",
        f'<header class="intro">{"".join(header)}</header>',
        *body,
        "</main>",
        "</div>",
        "</body>",
        "</html>",
        "",
    ])


def fragment(solution, decimals: int, symbolic: bool) -> str:
    """The walkthrough as a fragment to show inside another page (a notebook's output): one `<div>` whose style
    applies only inside it (no rule for the page, html or body leaks out) and whose ids are its own, so that
    showing it twice, or beside other output, changes nothing else.
    """
    document = render(solution, decimals, symbolic)
    return _scoped_fragment(document[document.index('<div class="layout">'):document.index("</body>")])


@formulas.with_names
def sections_fragment(solution, sections: list) -> str:
    """Some pages of the walkthrough (one backward step, one training step) as a fragment like `fragment`'s."""
    return _scoped_fragment(f'<main>{"".join(_section(solution, section) for section in sections)}</main>')


def _scoped_fragment(inner: str) -> str:
    """`inner` in a `<div>` of its own scope: the style sheet applies only inside it and its ids are prefixed."""
    global _displays
    _displays += 1
    scope = f"jbp-{_displays}"
    inner = inner.replace(' id="', f' id="{scope}-').replace('href="#', f'href="#{scope}-')
    return f'<div class="{scope}"><style>{scoped_style(STYLE, "." + scope)}</style>{inner}</div>'


_displays = 0  # fragments shown so far in this process: each gets its own scope and ids


def scoped_style(css: str, scope: str) -> str:
    """`css` with every rule applied only inside `scope`: `:root` and `body` become the scope itself, `html` and
    `@page` rules are dropped, every other selector is prefixed with the scope; `@media` blocks are kept, scoped
    inside."""
    out, position = [], 0
    while (brace := css.find("{", position)) != -1:
        selectors = css[position:brace].strip()
        depth, end = 1, brace + 1
        while depth:
            depth += {"{": 1, "}": -1}.get(css[end], 0)
            end += 1
        body = css[brace + 1:end - 1]
        position = end
        if selectors.startswith("@media"):
            out.append(f"{selectors} {{{scoped_style(body, scope)}}}")
        elif not selectors.startswith("@"):
            kept = [_scoped(selector.strip(), scope) for selector in selectors.split(",")]
            kept = [selector for selector in kept if selector]
            if kept:
                out.append(f"{', '.join(kept)} {{{body}}}")
    return "\n".join(out)


def _scoped(selector: str, scope: str) -> str | None:
    """One selector applied only inside `scope`."""
    selector = selector.split("*/")[-1].strip()  # a comment before a rule
    if selector in (":root", "body"):
        return scope
    if selector == "html":
        return None
    return f"{scope} {selector}"


def _contents(sections) -> str:
    items = []
    for section in sections:
        subitems = [f'<li><a href="#{block.anchor}">{_prose(block.text)}</a></li>'
                    for block in layout.flat(section.blocks) if isinstance(block, layout.Subheading)]
        nested = f"<ol>{''.join(subitems)}</ol>" if subitems else ""
        items.append(f'<li><a href="#{section.anchor}">{_prose(section.title)}</a>{nested}</li>')
    return (f'<nav class="contents" aria-label="Contents"><p class="contents-title">Contents</p>'
            f'<ol>{"".join(items)}</ol></nav>')


def _section(solution, section: layout.Section) -> str:
    parts = [f'<section id="{section.anchor}" class="page {section.kind}">', f"<h2>{_prose(section.title)}</h2>"]
    parts += [_block(solution, block) for block in layout.flat(section.blocks)]
    parts.append("</section>")
    return "\n".join(parts)


def _block(solution, block) -> str:
    if isinstance(block, layout.Jacobian):
        return f'<div class="jacobian">{_block(solution, block.equation)}{_sparsity(block)}</div>'
    if isinstance(block, layout.Equation):
        label = f'<p class="label">{_prose(block.label)}</p>' if block.label else ""
        lines = "".join(f'<div class="line">{"".join(_part(part) for part in line)}</div>' for line in block.lines)
        return f'<div class="equation">{label}{lines}</div>'
    if isinstance(block, layout.Breadcrumb):
        return _graph(solution, block)
    if isinstance(block, layout.Subheading):
        return f'<h3 id="{block.anchor}">{_prose(block.text)}</h3>'
    if isinstance(block, layout.Curve):
        return _curve(block)
    if block.tone in ("note", "aside"):
        return f'<aside class="note"><span class="icon" aria-hidden="true">!</span><p>{_prose(block.text)}</p></aside>'
    if block.tone == "check":
        return f'<p class="check"><span class="icon" aria-hidden="true">✓</span>{_prose(block.text)}</p>'
    return f"<p>{_prose(block.text)}</p>"


def _prose(sentence: Sentence | str) -> str:
    """A sentence with its formulas as inline MathML (see `formulas.pieces`)."""
    return "".join(f'<span class="formula"><math>{formulas.mathml(piece, inline=True)}</math></span>'
                   if is_formula else escape(piece)
                   for is_formula, piece in formulas.pieces(sentence))


def _part(part) -> str:
    """One part of an equation's line: a formula, a matrix or a gap."""
    if isinstance(part, layout.Gap):
        return '<span class="gap"></span>'
    if isinstance(part, str):
        return f'<math displaystyle="true">{formulas.mathml(part)}</math>'
    if isinstance(part, layout.Expression):
        from .. import symbolic

        return (f'<math displaystyle="true">{symbolic.mathml(part.left)}<mo>=</mo>'
                f'{symbolic.mathml(part.right)}</math>')
    if isinstance(part, layout.Symbols) and part.corner:
        rows = [[(entry if isinstance(entry, str) else f"<math>{terms.mathml(entry)}</math>", zero)
                 for entry, zero in row] for row in part.pattern_rows()]
        return _matrix(rows, "symbolic", layout.window(part.shape).note())
    if isinstance(part, layout.Symbols):
        from .. import symbolic

        rows = [[(entry if isinstance(entry, str) else f"<math>{symbolic.mathml(entry)}</math>", zero)
                 for entry, zero in row] for row in part.rows()]
        return _matrix(rows, "symbolic", layout.window(part.shape).note())
    return _matrix([[(escape(text.replace("-", "−")), zero) for text, zero in row] for row in part.rows()], "numeric",
                   layout.window(part.shape).note())


def _matrix(rows: list[list[tuple[str, bool]]], kind: str, note: str = "") -> str:
    """A matrix as a table between CSS-drawn brackets; exact zeros are dimmed; `note` says what is not shown."""
    body = "".join("<tr>" + "".join(f'<td class="zero">{cell}</td>' if zero else f"<td>{cell}</td>"
                                    for cell, zero in row) + "</tr>" for row in rows)
    table = f'<div class="matrix {kind}"><table><tbody>{body}</tbody></table></div>'
    return table + (f'<span class="elided">{escape(note)}</span>' if note else "")


# The computational graph, with the step's node highlighted

def _graph(solution, breadcrumb: layout.Breadcrumb) -> str:
    """The main path X → Z1 → A1 → … → L → J, each node's other inputs (W, b, Y, R) above it, and every
    connection that skips along the path (a residual) as an arc below; the walked part points back."""
    graph = solution.graph
    main = breadcrumb.main
    on_path = [crumb.label for crumb in main]
    marked = {crumb.label for crumb in (*main, *breadcrumb.side) if crumb.marked}
    arrows = {crumb.label: crumb.arrow for crumb in main}
    side_walked = {crumb.label for crumb in breadcrumb.side if crumb.arrow == story.BACKWARD_ARROW}
    x = {label: GRAPH_MARGIN + NODE_WIDTH / 2 + i * GRAPH_STEP for i, label in enumerate(on_path)}
    shapes, edges = [], []
    skips = 0
    for node in (graph.producers[label] for label in on_path[1:]):
        target = node.output
        backward = arrows[target] == story.BACKWARD_ARROW
        others = [name for name in node.roles.values() if name not in x]
        for i, name in enumerate(others):
            offset = (i - (len(others) - 1) / 2) * 40
            centre = x[target] + offset
            edges.append(_edge((centre, GRAPH_SIDE_Y + PARAMETER_HEIGHT / 2),
                               (x[target] + offset / 2.5, GRAPH_MAIN_Y - NODE_HEIGHT / 2),
                               name in marked and target in side_walked))
            shapes.append(_node(name, centre, GRAPH_SIDE_Y, PARAMETER_WIDTH, PARAMETER_HEIGHT, name in marked, False,
                                "parameter"))
        for name in (name for name in node.roles.values() if name in x):
            if on_path.index(target) - on_path.index(name) == 1:
                edges.append(_edge((x[name] + NODE_WIDTH / 2, GRAPH_MAIN_Y),
                                   (x[target] - NODE_WIDTH / 2, GRAPH_MAIN_Y), backward))
            else:
                skips += 1
                edges.append(_arc(x[name], x[target], name in marked and target in marked, backward))
    for crumb in main:
        shapes.append(_node(crumb.label, x[crumb.label], GRAPH_MAIN_Y, NODE_WIDTH, NODE_HEIGHT,
                            crumb.label in marked, crumb.arrow == story.BACKWARD_ARROW, "value"))
    width = 2 * GRAPH_MARGIN + NODE_WIDTH + (len(main) - 1) * GRAPH_STEP
    height = GRAPH_MAIN_Y + NODE_HEIGHT / 2 + GRAPH_MARGIN + (GRAPH_ARC if skips else 0)
    where = ", ".join(sorted(marked)) or "nothing"
    return (f'<figure class="graph"><svg viewBox="0 0 {width:g} {height:g}" width="{width:g}" height="{height:g}" '
            f'role="img"><title>The computational graph; marked: {escape(where)}</title>'
            f'{"".join(edges)}{"".join(shapes)}</svg></figure>')


def _arc(start: float, end: float, highlighted: bool, backward: bool) -> str:
    """A connection that skips nodes of the main path, drawn as an arc below it (highlighted on its own step)."""
    y = GRAPH_MAIN_Y + NODE_HEIGHT / 2
    x1, x2 = (end, start) if backward else (start, end)
    state = ("backward" if backward else "forward") + (" marked" if highlighted else "")
    tip = f"M{x2:.1f},{y + 2:.1f} l-3.5,7 l7,0 Z"
    return (f'<g class="edge skip {state}"><path fill="none" d="M{x1:.1f},{y + 2:.1f} C{x1:.1f},{y + GRAPH_ARC:.1f} '
            f'{x2:.1f},{y + GRAPH_ARC:.1f} {x2:.1f},{y + 9:.1f}"/><path d="{tip}"/></g>')


def _node(name: str, cx: float, cy: float, width: float, height: float, marked: bool, walked: bool,
          kind: str) -> str:
    state = "marked" if marked else "walked" if walked else "plain"
    letters = name.rstrip("0123456789")
    layer = name[len(letters):]
    label = escape(letters) + (f'<tspan class="layer" dy="-0.55em">[{escape(layer)}]</tspan>' if layer else "")
    return (f'<g class="node {kind} {state}"><rect x="{cx - width / 2:g}" y="{cy - height / 2:g}" '
            f'width="{width:g}" height="{height:g}" rx="7"/>'
            f'<text x="{cx:g}" y="{cy:g}" dy="0.35em" text-anchor="middle">{label}</text></g>')


def _edge(start: tuple[float, float], end: tuple[float, float], backward: bool) -> str:
    """A line with an arrowhead at `end`, or at `start` for the walked part, where gradients flow back."""
    (x1, y1), (x2, y2) = (end, start) if backward else (start, end)
    length = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5 or 1.0
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    tip_x, tip_y = x2 - ux * 2, y2 - uy * 2
    base_x, base_y = tip_x - ux * 7, tip_y - uy * 7
    left = (base_x - uy * 3.5, base_y + ux * 3.5)
    right = (base_x + uy * 3.5, base_y - ux * 3.5)
    state = "backward" if backward else "forward"
    return (f'<g class="edge {state}"><line x1="{x1:.1f}" y1="{y1:.1f}" x2="{base_x:.1f}" y2="{base_y:.1f}"/>'
            f'<path d="M{tip_x:.1f},{tip_y:.1f} L{left[0]:.1f},{left[1]:.1f} L{right[0]:.1f},{right[1]:.1f} Z"/></g>')


# The sparsity picture of a Jacobian

def _sparsity(jacobian: layout.Jacobian) -> str:
    """Every entry of the Jacobian as a square, filled where it is not zero, with lines between the blocks.

    A Jacobian too large for that is drawn from its structure on a grid of at most SPARSITY_GRID squares
    a side, each filled where its block of entries holds a nonzero one.
    """
    structure = jacobian.structure
    rows, columns = structure.shape
    if structure.small:
        filled = structure.dense() != 0
    else:
        filled = structure.occupancy(min(rows, SPARSITY_GRID), min(columns, SPARSITY_GRID))
    down_squares, across_squares = filled.shape
    cell = max(2, min(14, SPARSITY_SIZE // max(down_squares, across_squares)))
    width, height = across_squares * cell, down_squares * cell
    squares = []
    for i, row in enumerate(filled):
        j = 0
        while j < across_squares:
            if not row[j]:
                j += 1
                continue
            start = j
            while j < across_squares and row[j]:
                j += 1
            squares.append(f'<rect x="{start * cell}" y="{i * cell}" width="{(j - start) * cell}" height="{cell}"/>')
    nonzero = structure.nonzeros()
    if not structure.small:
        lines, caption = [], say(
            math(jacobian.name), " at a glance: ", math(f"{rows} × {columns}"),
            f", {nonzero} of {rows * columns} entries are not zero, drawn from its structure as ",
            math(f"{down_squares} × {across_squares}"), " squares, each filled where its block of about ",
            math(f"{rows / down_squares:.3g} × {columns / across_squares:.3g}"),
            " entries holds one that is not zero.")
        return _figure(lines, squares, width, height, caption)
    down, across = jacobian.row_group, jacobian.column_group
    lines = [f'<line x1="0" y1="{r * cell}" x2="{width}" y2="{r * cell}"/>' for r in range(down, rows, down)]
    lines += [f'<line x1="{c * cell}" y1="0" x2="{c * cell}" y2="{height}"/>' for c in range(across, columns, across)]
    guides = [say(math(name), f" ({direction})") for name, direction, group, size in (
        (jacobian.function, "down", down, rows), (jacobian.variable, "across", across, columns)) if group < size]
    caption = say(math(jacobian.name), " at a glance: ", math(f"{rows} × {columns}"),
                  f", {nonzero} of {rows * columns} entries are not zero.",
                  say(" Dotted lines mark where a new row of ", join(guides, " and of "), " begins.") if guides else "")
    return _figure(lines, squares, width, height, caption)


def _figure(lines: list[str], squares: list[str], width: int, height: int, caption) -> str:
    """The sparsity picture as an SVG figure with its caption (a sentence)."""
    return (f'<figure class="sparsity"><svg viewBox="-1 -1 {width + 2} {height + 2}" width="{width + 2}" '
            f'height="{height + 2}" role="img"><title>{escape(str(caption))}</title>'
            f'<rect class="background" x="0" y="0" width="{width}" height="{height}"/>'
            f'<g class="filled">{"".join(squares)}</g><g class="guides">{"".join(lines)}</g>'
            f'<rect class="frame" x="0" y="0" width="{width}" height="{height}"/></svg>'
            f"<figcaption>{_prose(caption)}</figcaption></figure>")


STYLE = """
:root {
  --ink: #1c2230; --muted: #5a6375; --faint: #8b93a3; --rule: #dde2ea; --paper: #ffffff; --panel: #f5f7fa;
  --accent: #2453c4; --accent-soft: #e4ebfa; --back: #c2530f; --zero: #b3b9c4; --bracket: #39404f;
  --note: #fff6e0; --note-edge: #e3a21a; --ok: #17784a;
  --text-font: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", "DejaVu Sans", sans-serif;
  --math-font: "STIX Two Math", "Latin Modern Math", "Cambria Math", "DejaVu Math TeX Gyre", math;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --ink: #e3e7ee; --muted: #a5adbb; --faint: #7d8595; --rule: #333a47; --paper: #14171d; --panel: #1c2029;
    --accent: #7fa4ff; --accent-soft: #26314a; --back: #f08c4a; --zero: #5b6270; --bracket: #c9ceda;
    --note: #2e2614; --note-edge: #c08a16; --ok: #5cc08e;
  }
}
* { box-sizing: border-box; }
html { background: var(--paper); }
body { margin: 0; color: var(--ink); background: var(--paper); font: 16.5px/1.6 var(--text-font);
  -webkit-font-smoothing: antialiased; }
math { font-family: var(--math-font); font-size: 1.08em; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.layout { display: grid; grid-template-columns: minmax(0, 1fr); }
@media (min-width: 1100px) {
  .layout { grid-template-columns: 17rem minmax(0, 1fr); }
  .contents { position: sticky; top: 0; height: 100vh; overflow-y: auto; border-right: 1px solid var(--rule); }
}
.contents { background: var(--panel); padding: 1.6rem 1.2rem 2rem; font-size: 0.9rem; line-height: 1.45; }
.contents-title { margin: 0 0 .8rem; font-size: .75rem; font-weight: 700; letter-spacing: .08em;
  text-transform: uppercase; color: var(--muted); }
.contents ol { list-style: none; margin: 0; padding: 0; }
.contents li { margin: .15rem 0; }
.contents li > a { display: block; padding: .25rem .5rem; border-radius: 6px; color: var(--ink); }
.contents li > a:hover { background: var(--accent-soft); text-decoration: none; }
.contents ol ol { margin: .1rem 0 .3rem .9rem; padding-left: .5rem; border-left: 2px solid var(--rule); }
.contents ol ol a { color: var(--muted); padding: .12rem .5rem; }
main { max-width: 76rem; width: 100%; padding: 2.5rem 2.5rem 5rem; margin: 0 auto; }
@media (max-width: 640px) {
  main { padding: 1.5rem 1rem 3rem; }
  h1 { font-size: 1.6rem; }
  .line { padding-left: 0; }
}
.intro { margin-bottom: 1rem; }
.kicker { margin: 0; font-size: .8rem; font-weight: 700; letter-spacing: .08em; text-transform: uppercase;
  color: var(--accent); }
h1 { font-size: 2.05rem; line-height: 1.2; margin: .4rem 0 .6rem; letter-spacing: -.01em; }
.summary { color: var(--muted); margin: 0 0 1rem; }
.remark { color: var(--muted); font-style: italic; }
.intro p, section > p { max-width: 44rem; }
section.page { border-top: 1px solid var(--rule); margin-top: 2.8rem; padding-top: 1.4rem; }
h2 { font-size: 1.45rem; line-height: 1.3; margin: 0 0 .8rem; }
h3 { font-size: 1.15rem; margin: 2.2rem 0 .6rem; padding-top: .6rem; border-top: 1px dashed var(--rule); }
h2 math, h3 math, .contents math { font-size: 1.05em; }
figure { margin: 0; }
.graph { margin: .4rem 0 1rem; overflow-x: auto; }
.graph svg { display: block; max-width: 100%; height: auto; }
.graph text { font: 600 14px var(--text-font); fill: var(--ink); }
.graph .layer { font-size: 9px; font-weight: 500; }
.graph .node rect { fill: var(--paper); stroke: var(--faint); stroke-width: 1.2; }
.graph .parameter rect { fill: var(--panel); stroke-dasharray: 3 2; }
.graph .walked rect { fill: var(--accent-soft); stroke: var(--accent); }
.graph .marked rect { fill: var(--accent); stroke: var(--accent); }
.graph .marked text { fill: #fff; }
.graph .edge line { stroke: var(--faint); stroke-width: 1.3; }
.graph .edge path { fill: var(--faint); }
.graph .edge.skip path:first-child { fill: none; stroke: var(--faint); stroke-width: 1.3; }
.graph .edge.skip.marked path:first-child { stroke: var(--accent); stroke-width: 2.2; }
.graph .backward line { stroke: var(--back); stroke-width: 1.6; stroke-dasharray: 4 3; }
.graph .backward path { fill: var(--back); }
/* A formula in a sentence that is wider than the column (a phone) scrolls in its own box, never the page. */
.formula { display: inline-block; max-width: 100%; overflow-x: auto; overflow-y: hidden; vertical-align: middle; }
.equation { margin: .9rem 0; }
.equation .label { margin: 0 0 .3rem; color: var(--muted); font-size: .94rem; }
.line { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; padding: .35rem 0 .35rem 1.2rem;
  overflow-x: auto; }
.line > * { flex: none; }
.gap { width: 1.6rem; }
.matrix { position: relative; display: inline-block; padding: .1rem .5rem; vertical-align: middle; }
.matrix::before, .matrix::after { content: ""; position: absolute; top: 0; bottom: 0; width: .42rem;
  border: 1.6px solid var(--bracket); }
.matrix::before { left: 0; border-right: 0; }
.matrix::after { right: 0; border-left: 0; }
.matrix table { border-collapse: collapse; }
.matrix td { padding: .16rem .55rem; white-space: nowrap; }
.numeric td { text-align: right; font-family: var(--math-font); font-size: 1.02em; font-variant-numeric: tabular-nums; }
.symbolic td { text-align: center; padding: .3rem .5rem; }
.symbolic math { font-size: .98em; }
.matrix td.zero { color: var(--zero); }
.elided { font-size: .82rem; color: var(--muted); margin-left: .4rem; }
.jacobian { display: flex; flex-wrap: wrap; align-items: center; gap: .4rem 2rem; margin: .9rem 0;
  padding: .6rem 1rem; background: var(--panel); border-radius: 10px; }
.jacobian .equation { margin: 0; min-width: 0; max-width: 100%; }
.jacobian .line { padding-left: 0; }
.sparsity { display: flex; align-items: center; gap: .9rem; max-width: 22rem; }
.sparsity svg { flex: none; }
.sparsity .background { fill: var(--paper); }
.sparsity .filled rect { fill: var(--accent); }
.sparsity .guides line { stroke: var(--faint); stroke-width: 1; stroke-dasharray: 2 2; }
.sparsity .frame { fill: none; stroke: var(--faint); stroke-width: 1; }
.sparsity figcaption { font-size: .82rem; line-height: 1.4; color: var(--muted); }
.note { display: flex; gap: .8rem; align-items: flex-start; margin: 1rem 0; padding: .8rem 1rem;
  background: var(--note); border-left: 4px solid var(--note-edge); border-radius: 6px; }
.note p { margin: 0; }
.note .icon { flex: none; display: inline-grid; place-items: center; width: 1.4rem; height: 1.4rem; margin-top: .1rem;
  border-radius: 50%; background: var(--note-edge); color: #fff; font-weight: 800; font-size: .85rem; }
.check { color: var(--ok); font-weight: 500; }
.check .icon { display: inline-block; width: 1.4rem; font-weight: 800; }
.check math { color: var(--ink); }
@page { size: A4; margin: 16mm 14mm; }
@media print {
  :root { --ink: #000; --muted: #333; --faint: #777; --rule: #bbb; --paper: #fff; --panel: #f4f4f4;
    --accent: #1f4bb0; --accent-soft: #e4ebfa; --zero: #9a9a9a; --bracket: #000; color-scheme: light; }
  body { font-size: 10.5pt; }
  .contents { display: none; }
  .layout { display: block; }
  main { max-width: none; padding: 0; }
  section.page { margin-top: 1.6rem; padding-top: .8rem; }
  h2, h3, .equation .label { break-after: avoid; }
  .equation, .jacobian, .graph, .note, .check { break-inside: avoid; }
  .line { flex-wrap: wrap; overflow: visible; }
  a { color: inherit; }
}
"""


# The cost curve's drawing area, in SVG units, and its margins for the axis labels.
CURVE_WIDTH, CURVE_HEIGHT, CURVE_LEFT, CURVE_BOTTOM, CURVE_TOP = 480, 200, 70, 30, 12


def _curve(curve: layout.Curve) -> str:
    """The cost over the training steps as an inline SVG line chart, with the highest and lowest cost on the axis."""
    costs = curve.costs
    high, low = max(costs), min(costs)
    span = (high - low) or 1.0
    right, base = CURVE_WIDTH - 10, CURVE_HEIGHT - CURVE_BOTTOM
    step = (right - CURVE_LEFT) / max(len(costs) - 1, 1)
    points = [(CURVE_LEFT + i * step, base - (cost - low) / span * (base - CURVE_TOP)) for i, cost in enumerate(costs)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5"><title>{layout.cost_label(i, len(costs))}: '
                   f'{format_number(cost, curve.decimals)}</title></circle>'
                   for i, ((x, y), cost) in enumerate(zip(points, costs, strict=True)))
    top, bottom = format_number(high, curve.decimals), format_number(low, curve.decimals)
    described = f"The cost J over {len(costs) - 1} training steps, from {format_number(costs[0], curve.decimals)} " \
                f"to {format_number(costs[-1], curve.decimals)} after training"
    return (f'<figure class="cost-curve"><svg viewBox="0 0 {CURVE_WIDTH} {CURVE_HEIGHT}" width="{CURVE_WIDTH}" '
            f'height="{CURVE_HEIGHT}" role="img" aria-label="{escape(described)}">'
            f'<line class="axis" x1="{CURVE_LEFT}" y1="{CURVE_TOP}" x2="{CURVE_LEFT}" y2="{base}" '
            'stroke="currentColor"/>'
            f'<line class="axis" x1="{CURVE_LEFT}" y1="{base}" x2="{right}" y2="{base}" stroke="currentColor"/>'
            f'<text x="{CURVE_LEFT - 6}" y="{CURVE_TOP + 4}" text-anchor="end">{top}</text>'
            f'<text x="{CURVE_LEFT - 6}" y="{base}" text-anchor="end">{bottom}</text>'
            f'<text x="{CURVE_LEFT}" y="{CURVE_HEIGHT - 8}">step 1</text>'
            f'<text x="{right}" y="{CURVE_HEIGHT - 8}" text-anchor="end">after training</text>'
            f'<polyline points="{line}" fill="none" stroke="currentColor" stroke-width="2"/>{dots}</svg>'
            f"<figcaption>{escape(described)}.</figcaption></figure>")
