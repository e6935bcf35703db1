"""The helpers several providers (and simulated APIs) share: each says the same thing for all."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel

from buildradiator.config.base import OWNER_NAME, check_each, check_shape
from buildradiator.errors import RateLimited
from buildradiator.model import TestStatus
from buildradiator.simulator.answer import Page, gitlab_paging, link_header, page_of
from buildradiator.sources.payload import Count, Flag
from buildradiator.sources.ratelimits import HostBudget, rate_limited
from buildradiator.sources.reading import some_names
from buildradiator.sources.testreports import report_cases

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def test_some_names_names_three_distinct_then_counts_the_rest() -> None:
    assert some_names(["unit", "lint"]) == "unit, lint"
    assert some_names(["a", "b", "a", "c", "d", "e"]) == "a, b, c +2 more"
    assert some_names(["a", "b", "c", "d"], more="") == "a, b, c +1"


class _Fields(BaseModel):
    count: Count = None
    flag: Flag = None


@pytest.mark.parametrize(
    ("raw", "read"),
    [(12, 12), ("12", 12), (12.0, 12), (12.5, None), (-1, None), (True, None), (2**53, None)],
)
def test_count_is_a_whole_number_or_unknown(raw: object, read: int | None) -> None:
    assert _Fields.model_validate({"count": raw}).count == read


def test_flag_is_a_boolean_or_unknown() -> None:
    assert _Fields.model_validate({"flag": True}).flag is True
    assert _Fields.model_validate({"flag": "true"}).flag is None


def test_shape_checks_name_the_value_that_is_off() -> None:
    assert check_each(["acme/api", "acme/web"], OWNER_NAME, "must look like owner/name") == [
        "acme/api",
        "acme/web",
    ]
    with pytest.raises(ValueError, match=re.escape("'acme' must look like owner/name")):
        check_each(["acme/api", "acme"], OWNER_NAME, "must look like owner/name")
    with pytest.raises(ValueError, match="must look like owner/name"):
        check_shape("acme/api/x", OWNER_NAME, "must look like owner/name")


class _Case(BaseModel):
    classname: str | None = None
    name: str | None = None
    status: str | None = None
    seconds: float | None = None


class _Suite(BaseModel):
    name: str | None = None
    cases: list[_Case | None] | None = None


def test_report_cases_default_the_class_to_the_suite_and_drop_what_says_nothing() -> None:
    suite = _Suite(
        name="rspec",
        cases=[
            _Case(name="pays", status="PASSED", seconds=1.5),
            _Case(classname="Cart", name="adds", status="Failed", seconds=-1),
            _Case(name="", status="passed"),
            _Case(name="odd word", status="weird"),
            None,
        ],
    )
    words = {"passed": TestStatus.PASSED, "failed": TestStatus.FAILED}
    cases = report_cases([suite, None], words)
    assert [(c.classname, c.name, c.status, c.duration) for c in cases] == [
        ("rspec", "pays", TestStatus.PASSED, 1.5),
        ("Cart", "adds", TestStatus.FAILED, None),
    ]


def test_a_rate_limit_with_a_time_holds_the_hosts_budget_until_then() -> None:
    budget = HostBudget()
    error = rate_limited("api.example", 429, budget, NOW, NOW + timedelta(minutes=5))
    assert isinstance(error, RateLimited)
    assert error.retry_at == budget.blocked_until == NOW + timedelta(minutes=5)
    assert str(error) == "rate limited by api.example (HTTP 429) until 10:05:00 UTC"
    far = rate_limited("api.example", 429, HostBudget(), NOW, NOW + timedelta(days=2))
    assert far.retry_at == NOW + timedelta(hours=1) and "trying again in at most 1h" in str(far)
    none = rate_limited("api.example", 429, HostBudget(), NOW, None, otherwise="; soon")
    assert none.retry_at is None and str(none).endswith("(HTTP 429); soon")


def test_a_page_of_a_list_and_how_github_and_gitlab_point_to_the_others() -> None:
    query = {"per_page": ["20"], "page": ["2"], "state": ["open"]}
    page = page_of(list(range(45)), query, 30)
    assert (page.number, page.size, page.shown[0], len(page.shown), page.last) == (2, 20, 20, 20, 3)
    assert page.more
    link = link_header(page, query, "https://api.example/items")
    assert link is not None
    assert '<https://api.example/items?per_page=20&state=open&page=3>; rel="next"' in link
    assert 'page=1>; rel="first"' in link and 'page=3>; rel="last"' in link
    headers = dict(gitlab_paging(page))
    assert headers["x-next-page"] == "3" and headers["x-prev-page"] == "1"
    assert headers["x-total"] == "45" and headers["x-total-pages"] == "3"
    last = Page.cut(list(range(45)), 3, 20)
    assert not last.more and dict(gitlab_paging(last, total_known=False)).keys() == {
        "x-page",
        "x-per-page",
        "x-next-page",
        "x-prev-page",
    }
    assert link_header(page_of([1, 2], {}, 30), {}, "https://api.example/items") is None
