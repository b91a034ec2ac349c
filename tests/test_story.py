"""Our explanatory sentences: they must stay true in the corner cases (one sample, layer 1, zero gradients)."""

import dataclasses

from jacobian_bp import load, solve
from jacobian_bp.render import story

ARTICLE = solve(load("article"))


def test_a_kink_in_layer_1_has_no_layers_below_it():
    solution = solve(load("deep_leaky"))
    step = solution.step("dJ/dZ1")
    note = str(story.kink_consequence(solution, step, step.kinks[0], 4))
    assert note.endswith("it would be 0.6236, and dJ/db1, dJ/dW1 would change with it.")


def test_a_kink_in_a_deeper_layer_changes_everything_below():
    step = ARTICLE.step("dJ/dZ2")
    note = str(story.kink_consequence(ARTICLE, step, step.kinks[0], 4))
    assert note.endswith("it would be 0.0228, and dJ/db2, dJ/dW2 and every gradient below layer 2 would change "
                         "with it.")


def test_a_kink_that_meets_a_zero_gradient_changes_nothing():
    step = ARTICLE.step("dJ/dZ2")
    kink = dataclasses.replace(step.kinks[0], value=0.0, other_value=0.0)
    note = str(story.kink_consequence(ARTICLE, step, kink, 4))
    assert "here the convention changes nothing" in note and "would change with it" not in note


def test_the_kink_note_above_a_hidden_result_does_not_give_it_away():
    step = ARTICLE.step("dJ/dZ2")
    note = str(story.kink_note(step, step.kinks[0], 4))
    assert "Z2 row 1, column 1 is exactly 0, the kink of ReLU" in note and "ReLU'(0) = 0" in note
    assert "dJ/dZ2" not in note and " is 0." not in note
    consequence = str(story.kink_consequence(ARTICLE, step, step.kinks[0], 4))
    assert consequence.startswith("At the kink (Z2 row 1, column 1), dJ/dZ2 row 1, column 1 is 0.")


def test_one_sample_is_not_spoken_of_as_many():
    solution = solve(load("neuron"))
    assert story.summary(solution).startswith("1 sample ·")
    assert str(story.loss_formula(solution)).endswith("the cost J is that one loss.")
    assert str(story.explanation(solution.steps[0], solution)).startswith("With one sample, J is that sample's loss")
    assert str(story.loss_formula(ARTICLE)).endswith("their mean over the m = 2 samples.")


def test_a_saturated_output_explains_why_the_fused_formula_differs(tmp_path):
    path = tmp_path / "saturated.toml"
    path.write_text('loss = "binary_cross_entropy"\n[data]\nX = [[1]]\nY = [[1]]\n[[layers]]\nunits = 1\n'
                    'activation = "sigmoid"\nW = [[-30]]\nb = [0]\n', encoding="utf-8")
    solution = solve(load(str(path)))
    step = solution.step("dJ/dZ1")
    assert not story.agrees(step.result, step.fused) and story.agrees(step.result, step.shortcut)
    caption = str(story.fused_caption(step, solution))
    assert caption.startswith("Together, sigmoid and binary cross-entropy would collapse to dJ/dZ1 = (A1 − Y) / m")
    assert "a clamp of PyTorch's in the loss's derivative" in caption and "bug" not in caption
    (note,) = solution.step("dJ/dA1").notes
    assert "PyTorch's binary cross-entropy divides by no less than 1e-12 there" in str(note)


def test_every_form_shows_the_collapse_of_softmax_and_cross_entropy():
    import json

    from jacobian_bp.render import html, latex, markdown
    from jacobian_bp.render import json as json_render

    solution = solve(load("softmax"))
    for render in (markdown.render, latex.render, html.render):
        assert "softmax and cross-entropy collapse" in " ".join(render(solution, decimals=4, symbolic=False).split())
    step = next(step for step in json.loads(json_render.render(solution))["steps"] if "fused" in step)
    assert step["gradient"] == "dJ/dZ2" and step["fused"] == "(A2 − Y) / m"
    assert step["fused_result"] == step["result"] or all(
        abs(a - b) < 1e-12 for ra, rb in zip(step["fused_result"], step["result"], strict=True)
        for a, b in zip(ra, rb, strict=True))


def test_every_sentence_of_every_page_is_written_as_words_and_formulas():
    """No renderer guesses where a formula starts: every sentence on every page is a `Sentence`, and the
    formulas it marks are the names and equations of the page (ops added later are held to it too)."""
    from jacobian_bp.render import layout
    from jacobian_bp.sentences import Math, Sentence
    from jacobian_bp.walkthrough import bundled_names

    for name in bundled_names():
        solution = solve(load(name))
        intro = layout.introduction(solution)
        assert isinstance(intro.note, Sentence)
        for section in layout.sections(solution, decimals=4, symbolic=False):
            assert isinstance(section.title, Sentence), (name, section.title)
            for block in layout.flat(section.blocks):
                for attribute in ("text", "label"):
                    if hasattr(block, attribute):
                        sentence = getattr(block, attribute)
                        assert isinstance(sentence, Sentence), (name, attribute, sentence)
                        assert all(isinstance(part, str | Math) for part in sentence.parts)
    step = ARTICLE.step("dJ/db3")
    assert [type(part).__name__ for part in step.shortcut_formula.parts] == ["str", "Math"]
    assert [str(part) for part in story.shortcut_caption(step).parts] == [
        "Shortcut ", "dJ/db3 =", " column sums of ", "dJ/dZ3", " gives the same numbers."]
    assert [str(part) for part in story.shortcut_caption(ARTICLE.step("dJ/dW3")).parts] == [
        "Shortcut ", "dJ/dW3 = (dJ/dZ3)ᵀ · A2", " gives the same numbers."]


def _deep(tmp_path, layers: int = 30):
    """A walkthrough of `layers` dense layers of 2 units: its path through the graph is long, its steps alike."""
    lines = ['loss = "cross_entropy"', "seed = 1", "[data]", "X = [[0.5, -1.0]]", "Y = [[1.0, 0.0]]"]
    lines += [f'[[layers]]\nunits = 2\nactivation = "{"tanh" if k < layers - 1 else "softmax"}"'
              for k in range(layers)]
    path = tmp_path / "deep.toml"
    path.write_text("\n".join(lines) + "\n")
    return solve(load(str(path)))


def test_a_node_names_its_entries_once_for_all_its_steps(tmp_path, monkeypatch):
    """The namers of a node's roles are made once per solution, not by each of its steps (a dense layer has three)."""
    from jacobian_bp import entries
    from jacobian_bp.render import layout

    solution = _deep(tmp_path)
    made = []
    namer = entries.namer
    monkeypatch.setattr(entries, "namer", lambda *arguments, **options: made.append(arguments[1]) or namer(
        *arguments, **options))
    for page in story.pages(solution):
        layout.section(solution, page, 4, True)
    once = sum(len(node.roles) + 1 for node in solution.graph.nodes if any(step.node == node.output
                                                                         for step in solution.steps))
    assert once <= len(made) <= once + 1  # (the targets are named once more, beside the loss's symbols)
