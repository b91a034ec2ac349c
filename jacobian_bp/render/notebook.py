"""What a notebook shows for one part of a solution (a backward step, a training step, an update): the pages the
whole walkthrough shows for it, written by the same Markdown and HTML renderers as the whole walkthrough."""

from . import html, layout, markdown, story


def _sections(record, owner) -> list[layout.Section]:
    """The pages of `record`, a `Step`, `TrainingStep` or `Update` of the solution `owner`."""
    from ..chain import Step, Update

    decimals = owner.walkthrough.decimals
    if isinstance(record, Step):
        return [layout.step_section(owner, record, decimals, symbolic=True)]
    if isinstance(record, Update):
        return [layout.update_section(owner, record, decimals)]
    pages = story.training_pages(owner, record.number)
    return [layout.section(owner, page, decimals, symbolic=False) for page in pages]


def as_markdown(record, owner) -> str:
    return markdown.sections_only(owner, _sections(record, owner))


def as_html(record, owner) -> str:
    return html.sections_fragment(owner, _sections(record, owner))
