"""A tenant's template renders with bounded work, off the event loop, and never raises."""

from __future__ import annotations

import asyncio
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine.templating import TemplateRenderer

pytestmark = pytest.mark.unit

NESTED_LOOPS = (
    "{% for i in range(100000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}Hello"
)


@pytest.fixture(scope="module")
def renderer() -> TemplateRenderer:
    shared = TemplateRenderer(timeout_s=1.0)
    yield shared
    shared.close()


async def test_a_template_that_loops_for_ever_is_cut_off_at_its_deadline_and_the_loop_runs_on(
    renderer: TemplateRenderer,
) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    rendered = await renderer.render(NESTED_LOOPS, {}, 5000)
    took = time.monotonic() - started
    ticker.cancel()
    assert rendered.error is not None
    assert "longer than 1 s" in rendered.error
    assert took < 3.0
    assert ticks >= 30  # the event loop kept its 20 ms beat meanwhile


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'x' * 20000000 }}",
        "{{ [1, 2] * 10000000 }}",
        "{% set a = 'x' * 900000 %}{% set b = [a] * 1000 %}{{ b|join }}",
    ],
    ids=["string-times", "list-times", "joined-copies"],
)
async def test_a_template_that_would_build_something_huge_is_refused(
    renderer: TemplateRenderer, source: str
) -> None:
    rendered = await renderer.render(source, {}, 50_000)
    assert rendered.error is not None
    assert rendered.text == ""


@pytest.mark.parametrize(
    "source",
    [
        "{{ 1/0 }}",
        "{{ 10**5000 }}",
        "{{ range(200000)|list }}",
        "{{ 'a' ~ (2 ** 14000) }}",
        "{{ {}.missing.deeper }}",
        "{{ '%d' % 'x' }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    ],
)
async def test_whatever_a_template_raises_comes_back_as_an_error(
    renderer: TemplateRenderer, source: str
) -> None:
    rendered = await renderer.render(source, {}, 5000)
    assert rendered.error
    assert rendered.text == ""


async def test_output_past_the_limit_is_an_error_not_a_truncated_text(
    renderer: TemplateRenderer,
) -> None:
    rendered = await renderer.render("{% for i in range(3000) %}word {% endfor %}", {}, 1000)
    assert rendered.error == "the rendered text has 15000 characters, over the limit of 1000"


async def test_a_worker_lost_to_a_hostile_template_is_replaced(renderer: TemplateRenderer) -> None:
    await renderer.render(NESTED_LOOPS, {}, 5000)
    rendered = await renderer.render("Hello {{ name }}", {"name": "Ann"}, 5000)
    assert rendered.text == "Hello Ann"
    assert rendered.error is None


async def test_plain_text_needs_no_worker(renderer: TemplateRenderer) -> None:
    started = time.monotonic()
    rendered = await renderer.render("Hello, how can I help?", {}, 5000)
    assert rendered.text == "Hello, how can I help?"
    assert time.monotonic() - started < 0.05


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    source=st.text(
        alphabet=st.sampled_from(list("{}%#()[]|*~'\" .+-/0123456789abcxyz_\\\n\ud800é")),
        max_size=60,
    ),
    name=st.text(max_size=20),
)
def test_no_template_escapes_the_renderer(source: str, name: str) -> None:
    renderer = _FUZZ_RENDERER
    rendered = renderer.render_blocking(source, {"name": name}, 5000)
    assert isinstance(rendered.text, str)
    assert rendered.error is None or isinstance(rendered.error, str)


_FUZZ_RENDERER = TemplateRenderer(timeout_s=2.0)
