"""The timeline pages by time and then by entry, so entries dated to the same minute (two notes
typed for one 09:15 visit) are never skipped at a page boundary."""

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.signed_in import on_care_team
from wholecare.directory.disciplines import Discipline
from wholecare.record.selectors import TIMELINE_PAGE

pytestmark = pytest.mark.django_db


def test_entries_at_the_same_minute_are_all_shown_across_pages(person: Any) -> None:
    gp, client = on_care_team(Discipline.GP, person)
    same = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=2)
    for n in range(TIMELINE_PAGE + 3):
        factories.RecordEntryFactory(person=person, author=gp, occurred_at=same, title=f"Note {n}")
    url = reverse("web:person-timeline", kwargs={"public_id": person.public_id})
    seen: list[str] = []
    page = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    while True:
        seen += re.findall(r">(Note \d+)</h3>", page)
        more = re.search(r'hx-get="([^"]+)"', page)
        if more is None:
            break
        older = client.get(more.group(1).replace("&amp;", "&"), HTTP_HX_REQUEST="true")
        page = older.content.decode()
    assert sorted(seen) == sorted(f"Note {n}" for n in range(TIMELINE_PAGE + 3))


@pytest.mark.parametrize(
    "query",
    [
        {"before": "2026-13-40T00:00:00+00:00", "before_id": "1"},
        {"before": "yesterday", "before_id": "1"},
        {"before": "2026-01-01T00:00:00+00:00", "before_id": "one"},
        {"before": "2026-01-01T00:00:00+00:00"},
    ],
)
def test_a_bad_page_marker_is_a_clear_400(person: Any, query: dict[str, str]) -> None:
    _, client = on_care_team(Discipline.GP, person)
    url = reverse("web:person-timeline", kwargs={"public_id": person.public_id})
    response = client.get(url, query, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "older entries" in response.content.decode()
