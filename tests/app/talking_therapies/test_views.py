"""The pathway's pages: every URL leaks nothing without a relationship and audits what it shows;
the public pages; the dashboard equals `wholecare outcomes` run on the export."""

import csv
import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tests import factories
from tests.app.talking_therapies.conftest import (
    GAD7_MODERATE,
    PHQ9_SEVERE,
    contact,
    days_ago,
    discharge,
    refer,
    refer_someone_else,
    score,
    treated_course,
)
from wholecare.access import services as access_services
from wholecare.access.models import AuditEvent, SharingConsent
from wholecare.directory.disciplines import Discipline
from wholecare.outcomes import cli
from wholecare.record import selectors as record_selectors
from wholecare.record.models import RecordEntry
from wholecare.record.vocabulary import Sensitivity
from wholecare.talking_therapies import forms, selectors, services
from wholecare.talking_therapies.engine import Period
from wholecare.talking_therapies.models import RiskTask, SelfReferral

pytestmark = pytest.mark.django_db
NUMERIC = "nhsuk-table__cell nhsuk-table__cell--numeric"


def _patterns() -> list[URLPattern]:
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace == "talking_therapies":
            return [p for p in entry.url_patterns if isinstance(p, URLPattern) and p.name]
    raise AssertionError("the talking_therapies URLs are not included")


@pytest.fixture
def busy(tt):
    """A referral with contacts, scores, an open risk task, a self-referral and a marker."""
    referral = treated_course(tt)
    score(tt, referral, "PHQ9", [0, 0, 0, 0, 0, 0, 0, 0, 2], days_ago(10))
    services.marker_record(
        by=tt.nurse.user, person=tt.person, code="hba1c", value=71, observed_on=days_ago(30)
    )
    submission = services.self_referral_submit(
        service=tt.service,
        client="x",
        given_name="Ada",
        family_name="Trelawney",
        date_of_birth=tt.person.date_of_birth,
        postcode="TQ1 1AA",
        phone="01632 960002",
    )
    return referral, submission


def _urls(pattern: URLPattern, tt, referral, submission) -> list[str]:
    route = str(pattern.pattern)
    kwargs: dict[str, object] = {}
    if "<str:code>" in route:
        kwargs["code"] = "PHQ9"
    if "<int:pk>" in route:
        pk = {
            "contact-kind": referral.contacts.first().pk,
            "risk-review": RiskTask.objects.get().pk,
            "self-referral": submission.pk,
        }.get(str(pattern.name), tt.service.pk)
        kwargs["pk"] = pk
    if "<int:referral_id>" in route:
        kwargs["referral_id"] = referral.referral_id
    name = f"talking_therapies:{pattern.name}"
    if "<uuid:public_id>" in route:
        return [
            reverse(name, kwargs={**kwargs, "public_id": public_id})
            for public_id in (tt.person.public_id, referral.public_id)
        ]
    return [reverse(name, kwargs=kwargs)]


def _identifying(tt) -> list[str]:
    person = tt.person
    return [
        person.given_name,
        person.family_name,
        person.family_name.upper(),
        person.nhs_number,
        f"{person.nhs_number[:3]} {person.nhs_number[3:6]} {person.nhs_number[6:]}",
        "Type 2 diabetes",
    ]


@pytest.mark.parametrize(
    "discipline",
    [Discipline.GP, Discipline.PSYCHOLOGICAL_WELLBEING_PRACTITIONER, Discipline.ANALYST],
)
def test_every_url_leaks_nothing_without_a_relationship(client, tt, busy, discipline):
    referral, submission = busy
    # Another Talking Therapies service's PWP, a GP elsewhere, an analyst: none may see Ada.
    other = factories.ServiceFactory(kind="talking-therapies")
    # A fixed name: a random one (say "Adams") could contain the subject's name and fail falsely.
    outsider = factories.StaffFactory(
        discipline=discipline, user__first_name="Olu", user__last_name="Tsider"
    )
    outsider.services.add(other)
    client.force_login(outsider.user)
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    walked = 0
    for pattern in _patterns():
        if str(pattern.name).startswith("public-"):
            continue
        for url in _urls(pattern, tt, referral, submission):
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                body = response.content.decode()
                for text in _identifying(tt):
                    # As a whole word: another person's random name ("Adam") is not Ada's.
                    shown = re.search(rf"\b{re.escape(text)}\b", body)
                    assert shown is None, f"{method.upper()} {url} shows {text!r}"
                walked += 1
    assert walked >= 40
    new_events = AuditEvent.objects.exclude(pk__in=before)
    assert set(new_events.values_list("action", flat=True)) <= {
        AuditEvent.Action.DENIED,
        AuditEvent.Action.AGGREGATE,
    }
    assert not new_events.filter(action=AuditEvent.Action.AGGREGATE).exists() or (
        discipline is Discipline.ANALYST
    )


def test_every_successful_page_about_the_person_is_audited(client, tt, busy):
    referral, submission = busy
    client.force_login(tt.pwp.user)
    shown = 0
    for pattern in _patterns():
        if "<uuid:public_id>" not in str(pattern.pattern):
            continue
        for url in _urls(pattern, tt, referral, submission):
            count = AuditEvent.objects.filter(person_id=tt.person.pk).count()
            response = client.get(url)
            if response.status_code == 200:
                shown += 1
                assert AuditEvent.objects.filter(person_id=tt.person.pk).count() > count, url
    assert shown >= 4


def test_gp_sees_that_therapy_is_under_way_but_not_the_scores(client, tt, busy):
    gp = factories.StaffFactory(discipline=Discipline.GP)
    factories.CareTeamMembershipFactory(person=tt.person, staff=gp)
    client.force_login(gp.user)
    body = client.get(reverse("talking_therapies:person", args=[tt.person.public_id])).content
    text = body.decode()
    assert "In treatment" in text or "in treatment" in text
    assert "HbA1c" in text
    assert "questionnaire scores withheld" in text
    assert "Patient Health Questionnaire-9" not in text


def test_the_chart_is_svg_with_a_table_and_caseness(client, tt, busy):
    client.force_login(tt.pwp.user)
    body = client.get(reverse("talking_therapies:person", args=[tt.person.public_id])).content
    text = body.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in text
    assert "Caseness 10" in text
    assert "No reliable change: 5 to 17" in text
    assert "<script" not in text.split("<main")[1]
    assert "71 mmol/mol" in text


def test_stale_save_on_the_page_shows_the_message(client, tt):
    referral = refer(tt)
    client.force_login(tt.pwp.user)
    url = reverse("talking_therapies:referral-descriptor", args=[referral.public_id])
    assert client.post(url, {"version": 1, "problem_descriptor": "F41.1"}).status_code == 302
    response = client.post(url, {"version": 1, "problem_descriptor": "F32.1"})
    assert response.status_code == 400
    assert "changed by someone else" in response.content.decode()


def test_contact_before_referral_shows_a_clear_error(client, tt):
    referral = refer(tt, received=5)
    client.force_login(tt.pwp.user)
    response = client.post(
        reverse("talking_therapies:referral-contact", args=[referral.public_id]),
        {
            "day": days_ago(6).isoformat(),
            "time": "10:00",
            "kind": "assessment",
            "attendance": "5",
            "mode": "phone",
            "intensity": "low",
        },
    )
    assert response.status_code == 400
    assert "cannot be before the referral was received" in response.content.decode()


def test_case_finding_lists_unscreened_then_screened_at_caseness(client, tt):
    client.force_login(tt.nurse.user)
    url = reverse("talking_therapies:case-finding")
    body = client.get(url, {"register": "diabetes"}).content.decode()
    assert "Not screened in the last 12 months (1)" in body
    response = client.post(
        reverse("talking_therapies:screen", args=[tt.person.public_id]),
        {
            "measured_on": days_ago(0).isoformat(),
            **{f"PHQ9_{i}": v for i, v in enumerate(PHQ9_SEVERE)},
            **{f"GAD7_{i}": v for i, v in enumerate(GAD7_MODERATE)},
        },
    )
    assert response.status_code == 302
    body = client.get(url).content.decode()
    assert "Not screened in the last 12 months (0)" in body
    assert "Screened at caseness, not referred (1)" in body
    refer(tt, received=0)
    assert "Screened at caseness, not referred (0)" in client.get(url).content.decode()


def test_case_finding_counts_only_screens_not_therapy_sessions(client, tt):
    """A PHQ-9 at caseness in a course of therapy is not a screen: the person is not listed as
    screened and not referred (nor as unscreened, being measured within 12 months), and no
    session's score is shown to the practice nurse, then or a year on."""
    referral = refer(tt, received=500)
    score(tt, referral, "PHQ9", PHQ9_SEVERE, days_ago(420))
    score(tt, referral, "GAD7", GAD7_MODERATE, days_ago(420))
    discharge(tt, referral, days_ago(400))
    found = selectors.case_finding(by=tt.nurse.user, practice_id=None, register="diabetes")
    assert [(row.person, row.last_phq9, row.last_screen) for row in found.unscreened] == [
        (tt.person, None, None)
    ]
    referral = refer(tt, received=30)
    score(tt, referral, "PHQ9", PHQ9_SEVERE, days_ago(10))
    score(tt, referral, "GAD7", GAD7_MODERATE, days_ago(10))
    discharge(tt, referral, days_ago(5))
    found = selectors.case_finding(by=tt.nurse.user, practice_id=None, register="diabetes")
    assert (found.unscreened, found.not_referred) == ([], [])
    client.force_login(tt.nurse.user)
    body = client.get(reverse("talking_therapies:case-finding")).content.decode()
    assert "Screened at caseness, not referred (0)" in body
    assert ">18<" not in body


def test_case_finding_shows_a_screen_only_to_whom_the_sharing_rule_shows_it(client, tt):
    """A screen's scores, and that it was at caseness, are read on the list as on the person's
    page: by whoever recorded it and those the sharing rule and the person's decisions allow."""
    services.measures_record(
        by=tt.nurse.user,
        person=tt.person,
        answers={"PHQ9": PHQ9_SEVERE, "GAD7": GAD7_MODERATE},
        measured_on=days_ago(3),
    )
    homecare = factories.StaffFactory(discipline=Discipline.HOMECARE_WORKER)
    gp = factories.StaffFactory(discipline=Discipline.GP)
    for staff in (homecare, gp):
        factories.CareTeamMembershipFactory(person=tt.person, staff=staff)

    def listed(staff):
        found = selectors.case_finding(by=staff.user, practice_id=None, register="")
        return [(row.person, row.last_phq9) for row in found.not_referred + found.unscreened]

    assert listed(tt.nurse) == [(tt.person, 18)]
    assert listed(homecare) == listed(gp) == []
    client.force_login(homecare.user)
    body = client.get(reverse("talking_therapies:case-finding")).content.decode()
    assert "Screened at caseness, not referred (0)" in body
    assert ">18<" not in body
    access_services.sharing_consent_record(
        by=tt.nurse.user,
        person=tt.person,
        sensitivity=Sensitivity.PSYCHOLOGICAL_THERAPY,
        discipline=Discipline.GP,
        decision=SharingConsent.Decision.PERMIT,
    )
    assert listed(gp) == [(tt.person, 18)]


def test_public_questionnaire_from_a_link_raises_the_risk_at_once(tt):
    referral = treated_course(tt)
    new = services.invitation_create(
        by=tt.pwp.user, person=tt.person, referral=referral, measures_wanted=["PHQ9"]
    )
    public = Client()
    url = reverse("talking_therapies:public-questionnaire")
    assert "Enter the code" in public.get(url).content.decode()
    page = public.post(url, {"code": new.code}).content.decode()
    assert "Thoughts that you would be better off dead" in page
    done = public.post(
        url,
        {
            "code": new.code,
            "answers": "1",
            "measures": "PHQ9",
            **{f"PHQ9_{i}": 0 for i in range(8)},
            "PHQ9_8": 1,
        },
    ).content.decode()
    assert "116 123" in done
    assert "option 2" in done
    assert "999" in done
    assert RiskTask.objects.get().assigned_to == tt.pwp
    pwp = Client()
    pwp.force_login(tt.pwp.user)
    caseload = pwp.get(reverse("talking_therapies:caseload")).content.decode()
    assert "PHQ-9 item 9 answered 1" in caseload
    again = public.post(url, {"code": new.code}).content.decode()
    assert "That code does not work" in again


def test_public_self_referral_has_bot_checks(tt, monkeypatch):
    public = Client()
    url = reverse("talking_therapies:public-self-referral")
    page = public.get(url).content.decode()
    assert "116 123" in page
    stamp = forms.form_stamp()
    data = {
        "service": tt.service.pk,
        "given_name": "Wren",
        "family_name": "Pollard",
        "date_of_birth": "1970-03-04",
        "postcode": "TQ1 2AB",
        "phone": "01632 960003",
        "stamp": stamp,
    }
    assert "could not be sent" in public.post(url, data).content.decode(), "too fast for a person"
    monkeypatch.setattr(forms, "MIN_SECONDS", 0)
    assert "could not be sent" in public.post(url, {**data, "website": "x"}).content.decode()
    assert "expired" in public.post(url, {**data, "stamp": "forged"}).content.decode()
    assert not SelfReferral.objects.exists()
    done = public.post(url, data)
    assert "Your referral has been sent" in done.content.decode()
    assert SelfReferral.objects.get().family_name == "Pollard"


def test_dashboard_equals_wholecare_outcomes_on_the_export(client, tt, tmp_path: Path):
    """The dashboard's figures are what `wholecare outcomes` computes from the exported files."""
    recovered = treated_course(tt)
    discharge(tt, recovered, days_ago(5))
    for n in range(9):
        someone = factories.PersonFactory(ethnic_category="H" if n % 2 else "A", imd_decile=n + 1)
        factories.CareTeamMembershipFactory(person=someone, staff=tt.nurse)
        condition = factories.ConditionFactory(
            person=someone, snomed_code="13645005" if n % 3 else "44054006"
        )
        referral = services.tt_referral_create(
            by=tt.nurse.user,
            person=someone,
            service=tt.service,
            source="A3",
            conditions=[condition],
            received_date=days_ago(80 - n),
            problem_descriptor="F41.1" if n % 2 else "F32.1",
        )
        tt.person = someone
        contact(tt, referral, days_ago(70 - n), kind="assessment")
        score(tt, referral, "PHQ9", PHQ9_SEVERE, days_ago(70 - n))
        score(tt, referral, "GAD7", GAD7_MODERATE, days_ago(70 - n))
        for offset in range(n % 4):
            contact(tt, referral, days_ago(40 - offset * 7 - n))
        if n % 4 >= 2:
            score(tt, referral, "PHQ9", [1] * 8 + [0], days_ago(30 - n))
            score(tt, referral, "GAD7", [1] * 7, days_ago(30 - n))
            referral.refresh_from_db()
            discharge(tt, referral, days_ago(20 - n))
    client.force_login(tt.manager.user)
    today = days_ago(0)
    start = today.replace(year=today.year - 1) + (days_ago(0) - days_ago(1))
    archive = client.get(reverse("talking_therapies:export", args=[tt.service.pk])).content
    with zipfile.ZipFile(io.BytesIO(archive)) as files:
        names = files.namelist()
        assert "dataset/IDS101_Referral.csv" in names
        assert "dataset/IDS606_CodedScoredAssessmentReferral.csv" in names
        for role in ("referrals", "contacts", "measures"):
            (tmp_path / f"{role}.csv").write_bytes(files.read(f"outcomes/{role}.csv"))
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 10
    code = cli.main(
        [
            "--referrals",
            str(tmp_path / "referrals.csv"),
            "--contacts",
            str(tmp_path / "contacts.csv"),
            "--measures",
            str(tmp_path / "measures.csv"),
            "--out",
            str(tmp_path / "out"),
            "--period-start",
            start.isoformat(),
            "--period-end",
            today.isoformat(),
        ]
    )
    assert code == 0
    expected = json.loads((tmp_path / "out" / "summary.json").read_text())
    shown = selectors.dashboard(by=tt.manager.user, service=tt.service, period=Period(start, today))
    assert shown.figures.summary == expected
    assert expected["overall"]["counts"]["finished"] == 5
    assert expected["overall"]["counts"]["referrals"] == 10
    # Entered treatment: the CLI's outcomes with a first treatment session in the period.
    with (tmp_path / "out" / "outcomes.csv").open() as rows:
        first_treatments = [row["first_treatment_date"] for row in csv.DictReader(rows)]
    entered = sum(start.isoformat() <= day <= today.isoformat() for day in first_treatments if day)
    assert entered == 7
    assert shown.figures.overall_counts()["entered_treatment"] == entered
    assert shown.figures.grouped("by_ltc")["LTC"]["counts"]["entered_treatment"] == "*"
    assert shown.figures.by_register["Diabetes"]["counts"]["entered_treatment"] == "*"
    page = client.get(reverse("talking_therapies:dashboard", args=[tt.service.pk])).content.decode()
    overall = expected["overall"]
    finished = overall["counts"]["finished"]
    assert f'Finished a course of treatment</th><td class="{NUMERIC}">{finished}<' in page
    assert f"{100 * overall['rates']['recovery']:.1f}%" in page
    within = overall["counts"]["first_assessment_within_28_days"]
    assert f'within 28 days of referral</th><td class="{NUMERIC}">{within}<' in page
    assert f'Entered treatment (a first treatment session)</th><td class="{NUMERIC}">7<' in page
    assert "*" in page, "small groups are suppressed"


def test_only_the_services_manager_exports(client, tt):
    client.force_login(tt.pwp.user)
    assert client.get(reverse("talking_therapies:export", args=[tt.service.pk])).status_code == 403
    assert (
        client.get(reverse("talking_therapies:dashboard", args=[tt.service.pk])).status_code == 403
    )


def test_after_discharge_the_service_keeps_its_episode_not_the_record(client, tt):
    referral = treated_course(tt)
    discharge(tt, referral)
    client.force_login(tt.pwp.user)
    episode = client.get(reverse("talking_therapies:referral", args=[referral.public_id]))
    assert episode.status_code == 200
    assert "Recovered" in episode.content.decode()
    record = client.get(reverse("talking_therapies:person", args=[tt.person.public_id]))
    assert record.status_code == 403


def test_the_referral_page_says_whether_the_ltc_team_may_read_therapy_notes(client, tt):
    referral = refer(tt)
    client.force_login(tt.pwp.user)
    url = reverse("talking_therapies:referral", args=[referral.public_id])
    sharing = reverse("web:person-sharing", args=[tt.person.public_id])
    before = client.get(url).content.decode()
    assert "GP: <strong>no</strong> (the usual rule: no decision recorded)" in before
    assert f'href="{sharing}">record their decision</a>' in before

    client.post(
        sharing, {"sensitivity": "psychological-therapy", "discipline": "gp", "decision": "permit"}
    )

    after = client.get(url).content.decode()
    given = tt.person.given_name
    assert f"GP: <strong>yes</strong> ({given}'s decision)" in after
    assert "Practice nurse: <strong>no</strong> (the usual rule: no decision recorded)" in after
    discharge(tt, referral)
    assert "therapy-notes-sharing" not in client.get(url).content.decode()


def test_a_screen_from_a_link_reaches_the_nurse_who_sent_it(client, tt):
    client.force_login(tt.nurse.user)
    page = client.post(
        reverse("talking_therapies:invite", args=[tt.person.public_id]),
        {"measures": ["PHQ9", "GAD7"]},
    ).content.decode()
    code = page.split('id="one-time-code">')[1].split("<")[0]
    services.questionnaire_submit(
        code=code,
        client="y",
        answers={"PHQ9": [1, 1, 1, 1, 1, 1, 1, 1, 2], "GAD7": GAD7_MODERATE},
    )
    task = RiskTask.objects.get()
    assert task.assigned_to == tt.nurse
    assert task.referral is None
    body = client.get(reverse("talking_therapies:case-finding")).content.decode()
    assert "PHQ-9 item 9 answered 2" in body
    assert "Screened at caseness, not referred (1)" in body


def test_waiting_list_shows_marks_second_treatment_waits_and_the_forecast(client, tt):
    waiting = refer(tt, received=50)
    contact(tt, waiting, days_ago(45), kind="assessment")
    once = refer_someone_else(tt, 150, source="A1", family_name="Polglaze")
    contact(tt, once, days_ago(140), kind="treatment")
    client.force_login(tt.pwp.user)
    body = client.get(reverse("talking_therapies:waiting-list", args=[tt.service.pk])).content
    text = body.decode()
    assert "Waiting for a first treatment (1)" in text
    assert "Past 6 weeks" in text
    assert f"{days_ago(8):%-d %b %Y}" in text, "the 6-week mark: received + 42 days"
    assert "Over 90 days" in text
    assert "POLGLAZE" in text.split("Waiting for a second treatment")[1]
    assert "w/c" in text


def test_kind_change_and_self_referral_triage_through_the_pages(client, tt):
    referral = refer(tt, received=20)
    assessment = contact(tt, referral, days_ago(10), kind="assessment")
    client.force_login(tt.pwp.user)
    url = reverse("talking_therapies:contact-kind", args=[assessment.pk])
    refused = client.post(url, {"kind": "treatment", "reason": ""})
    assert "Say why the kind of contact is changing" in refused.content.decode()
    done = client.post(url, {"kind": "treatment", "reason": "It was the first CBT session"})
    assert done.status_code == 302
    assert AuditEvent.objects.filter(what__contains="from assessment to treatment").exists()
    submission = services.self_referral_submit(
        service=tt.service,
        client="z",
        given_name="Wren",
        family_name="Pollard",
        date_of_birth=days_ago(15000),
        postcode="TQ1 2AB",
        email="wren@example.org",
    )
    triage = reverse("talking_therapies:self-referral", args=[submission.pk])
    assert "No matching record" in client.get(triage).content.decode()
    created = client.post(triage, {"nhs_number": factories.next_nhs_number(), "sex": "female"})
    assert created.status_code == 302
    assert SelfReferral.objects.get().tt_referral is not None


def test_a_person_whose_nhs_number_and_birth_date_are_not_known_is_said_so_once(client, tt, busy):
    tt.person.nhs_number = None
    tt.person.date_of_birth = None
    tt.person.save()
    client.force_login(tt.pwp.user)
    page = client.get(reverse("talking_therapies:person", args=[tt.person.public_id]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "NHS number not known" in body
    assert "NHS number NHS number" not in body
    assert "date of birth not known" in body


def test_the_person_reads_the_discharge_letter_unless_the_practitioner_withholds_it(client, tt):
    """Decision 0040: asked only when the person has online access."""
    referral = treated_course(tt)
    client.force_login(tt.pwp.user)
    url = reverse("talking_therapies:referral", args=[referral.public_id])
    question = "read the discharge letter and the note closing the referral in their record online"
    assert question not in client.get(url).content.decode()
    tt.person.user = factories.UserFactory(date_joined=timezone.now() - dt.timedelta(days=30))
    tt.person.save()
    assert question in client.get(url).content.decode()
    response = client.post(
        reverse("talking_therapies:referral-discharge", args=[referral.public_id]),
        {
            "version": referral.version,
            "discharge_date": days_ago(1).isoformat(),
            "ending_reason": "46",
            "withheld_from_person": "serious-harm",
        },
    )
    assert response.status_code == 302
    written = RecordEntry.objects.filter(person=tt.person)
    assert written.count() == 2
    assert set(written.values_list("withheld_from_person", flat=True)) == {"serious-harm"}
    assert not record_selectors.my_notes(by=tt.person.user).entries
