"""Fuzzing the template renderer with tenants' templates from the corpus, mutated and spliced
with Jinja fragments (hostile ones included): every render returns a `Rendered` (text within
the limit, or an error that says why) in bounded time; any variable's text comes back as it was;
text without template syntax is returned as it is."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine import templating
from app.engine.templating import (
    RENDER_TIMEOUT_S,
    WORKER_START_TIMEOUT_S,
    TemplateRenderer,
    has_template_syntax,
)
from tests.fuzz.harness import FUZZ, PROFILE, SPLICE, case, seed_texts, spliced

pytestmark = [pytest.mark.unit, pytest.mark.fuzz]
TARGET = "template_renderer"
# A render may wait for a new worker (one that a hostile template killed) and then run to its
# deadline; nothing more.
LIMIT_S = WORKER_START_TIMEOUT_S + RENDER_TIMEOUT_S + 1.0
# Renders cross a process boundary, so the short run does fewer of them.
SETTINGS = settings(FUZZ, max_examples=60) if PROFILE == "ci" else FUZZ
MAX_CHARS = 2000
FRAGMENTS = st.sampled_from(
    [
        "{{ name }}", "{{ name | upper }}", "{{ missing }}", "{{ missing.attr }}", "{% if vip %}",
        "{% endif %}", "{% for d in days %}{{ d }}{% endfor %}", "{{ 1/0 }}", "{{ name ~ name }}",
        "{% raw %}", "{% endraw %}", "{# note #}", "{{", "}}", "{%", "%}", "{{ 10**9999 }}",
        "{{ 'ab' * 600000 }}", "{{ ''.__class__.__mro__ }}", "{{ lipsum(50) }}",
        "{% for i in range(10**12) %}x{% endfor %}", "{{ name[0] }}", "{{ days|join(', ') }}",
        "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "{{ name.format(1) }}",
    ]
)  # fmt: skip
VARIABLES = st.fixed_dictionaries(
    {
        "name": st.text(max_size=30),
        "company_name": st.text(max_size=30),
        "vip": st.booleans(),
        "days": st.lists(st.text(max_size=8), max_size=3),
        "opening_hours": st.dictionaries(st.text(max_size=5), st.text(max_size=10), max_size=3),
        "callback_number": st.sampled_from(["", "+14155550100"]),
    }
)


@st.composite
def template_mutants(draw: st.DrawFn) -> str:
    source = draw(st.sampled_from(seed_texts("templates")))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(source)))
        source = source[:at] + draw(FRAGMENTS) + source[at:]
    if draw(st.booleans()):
        mutated = spliced(source.encode(), draw(st.lists(SPLICE, max_size=3)), draw(st.integers()))
        source = mutated.decode("utf-8", "replace")
    return source


@pytest.fixture(scope="module")
def renderer() -> Iterator[TemplateRenderer]:
    shared = TemplateRenderer(timeout_s=RENDER_TIMEOUT_S)
    yield shared
    shared.close()


@SETTINGS
@given(source=template_mutants(), variables=VARIABLES)
def test_any_template_renders_or_says_why(
    renderer: TemplateRenderer, source: str, variables: dict[str, object]
) -> None:
    with case(TARGET, wall_s=LIMIT_S):
        rendered = renderer.render_blocking(source, variables, MAX_CHARS)
    assert len(rendered.text) <= MAX_CHARS
    if rendered.error is not None:
        assert rendered.error.strip()
        assert rendered.text == ""


@SETTINGS
@given(value=st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=80))
def test_a_variable_comes_back_as_it_was(renderer: TemplateRenderer, value: str) -> None:
    with case(TARGET, wall_s=LIMIT_S):
        rendered = renderer.render_blocking("{{ value }}", {"value": value}, MAX_CHARS)
    assert rendered == type(rendered)(value)


@pytest.fixture(scope="module")
def workerless() -> TemplateRenderer:
    """A renderer that has not started a worker yet (the test refuses it one)."""
    return TemplateRenderer(timeout_s=RENDER_TIMEOUT_S)


@SETTINGS
@given(text=st.text(max_size=300))
def test_text_without_syntax_is_returned_as_it_is(workerless: TemplateRenderer, text: str) -> None:
    if has_template_syntax(text):
        return
    no_worker = AssertionError("plain text was sent to a worker process")
    with patch.object(templating, "_Worker", side_effect=no_worker), case(TARGET, cpu_s=0.5):
        rendered = asyncio.run(workerless.render(text, {}, 100))
    if len(text) <= 100:
        assert rendered == type(rendered)(text)
    else:
        assert rendered.text == ""
        assert rendered.error
