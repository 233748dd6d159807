"""A medicines reconciliation in the demonstration area that asks the demo GP's practice to add
the medicine a heart failure clinic started (decision 0046), so that the GP finds the correction
waiting on their caseload. Made through the reconciliation service, as a pharmacist would."""

from django.db.models import Q
from django.utils import timezone

from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Organisation, Staff
from wholecare.medicines import selectors, services
from wholecare.medicines.reconciliation import Compared, Decision
from wholecare.record.models import Person

#: The demo GP's sign-in: the correction is asked of their practice.
GP_USERNAME = "demo-gp"


def ask_the_practice(cared_for: Person | None) -> Person | None:
    """Reconcile the lists of the first person (by NHS number; `cared_for`, whose lists the demo
    pharmacist is pointed to, only when nobody else will do) whom the demo GP and a pharmacist
    care for and whose clinic list has a medicine the practice's lacks; None when the area
    holds nobody so."""
    gp = Staff.objects.select_related("organisation").get(user__username=GP_USERNAME)
    today = timezone.localdate()
    current = Q(care_team__end_date__isnull=True) | Q(care_team__end_date__gte=today)
    candidates = (
        Person.objects.filter(current, care_team__staff=gp)
        .filter(
            fhir_resources__resource_type="MedicationStatement",
            fhir_resources__author__organisation__kind=Organisation.Kind.ACUTE_TRUST,
        )
        .distinct()
    )
    last = cared_for.pk if cared_for is not None else None
    for person in sorted(candidates, key=lambda p: (p.pk == last, p.nhs_number or "")):
        pharmacist = (
            Staff.objects.filter(
                discipline=Discipline.PHARMACIST,
                care_team_memberships__person=person,
                care_team_memberships__end_date__isnull=True,
            )
            .select_related("user")
            .first()
        )
        if pharmacist is None:
            continue
        compared = selectors.comparison(pharmacist, person, today)
        added = [n for n, m in enumerate(compared.medicines, 1) if _only_the_clinic_lists(m, gp)]
        if not added:
            continue
        services.reconcile(
            by=pharmacist.user,
            person=person,
            fingerprint=compared.fingerprint,
            found={
                n: _found(medicine, n in added)
                for n, medicine in enumerate(compared.medicines, start=1)
            },
            asked_of=dict.fromkeys(added, gp.organisation.ods_code),
            checked_with=["person", "own-medicines"],
            note="Reconciled after the heart failure clinic's letter.",
        )
        return person
    return None


def _only_the_clinic_lists(medicine: Compared, gp: Staff) -> bool:
    return medicine.in_force and gp.organisation.name in medicine.missing_from


def _found(medicine: Compared, added: bool) -> tuple[str, str]:
    if added:
        return (
            Decision.PRESCRIBER_ASKED.value,
            "Started at the heart failure clinic and taken since; not on the practice's repeat"
            " list. Asked the practice to add it.",
        )
    if medicine.differences:
        return (
            Decision.INTENDED.value,
            "Changed at the heart failure clinic, as its letter says; the person takes it so.",
        )
    return Decision.AS_LISTED.value, ""
