from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse

from wholecare.access import permissions
from wholecare.access.models import ProxyAccess
from wholecare.directory.models import Staff
from wholecare.fhir import unfiled


@dataclass(frozen=True)
class NavigationItem:
    text: str
    href: str
    current: bool


def staff(request: HttpRequest) -> dict[str, object]:
    user = request.user
    if not user.is_authenticated:
        return {}
    member: Staff | None = getattr(user, "staff", None)
    items: list[tuple[str, str]] = []
    waiting = 0
    if member is not None:
        if permissions.can_break_glass(member):
            items += [
                ("My caseload", "web:caseload"),
                ("Referrals received", "web:referrals-received"),
                ("Find a person", "web:find-person"),
            ]
            items.append(("Talking Therapies", "talking_therapies:home"))
        if permissions.can_review_break_glass(member):
            items.append(("Break-glass review", "web:review-queue"))
        if permissions.can_view_aggregates(member):
            items.append(("Population figures", "web:aggregates"))
        items.append(("My access history", "web:my-audit"))
        waiting = unfiled.count_waiting(member)
        if waiting:
            items.append((f"Results to file ({waiting})", "results:waiting"))
    else:
        if hasattr(user, "person"):
            # Who has looked, who may read and who can act for them are listed on "My record":
            # a header menu this long would hide the rest under "More".
            items.append(("My record", "web:my-record"))
            items.append(("My notes and letters", "web:my-notes"))
            items.append(("My care plans", "web:my-care-plans"))
            items.append(("How to contact me", "web:my-contact"))
        if ProxyAccess.objects.filter(proxy_id=user.pk, ended_at__isnull=True).exists():
            items.append(("People I help", "web:people-i-help"))
    links = [(text, reverse(name)) for text, name in items]
    within = [href for _, href in links if request.path.startswith(href)]
    current = max(within, key=len, default=None)
    navigation = [NavigationItem(text, href, href == current) for text, href in links]
    return {"current_staff": member, "navigation": navigation, "results_waiting": waiting}
