"""The monthly extract shaped like the NHS Talking Therapies data set: one CSV per table.

Tables and field names follow the data set's technical output specification (IDS101 Referral,
IDS201 Care Contact, IDS202 Care Activity, IDS602 Long Term Physical Health Condition, IDS603
Presenting Complaints, IDS606 Coded Scored Assessment (Referral)); docs/formats/
talking-therapies-dataset.md maps every column to the Wholecare field it comes from and says which
names could not be checked against the published specification.
"""

from django.utils import timezone

from wholecare import measures
from wholecare.directory.models import Service
from wholecare.talking_therapies import codes
from wholecare.talking_therapies.engine import Extract, Period, csv_bytes


def tables(found: Extract, service: Service, period: Period) -> dict[str, bytes]:
    provider = service.organisation.ods_code
    referrals = []
    conditions = []
    complaints = []
    for r in found.referrals:
        rid = str(r.public_id)
        discharged = (
            r.discharge_date if r.discharge_date and r.discharge_date <= period.end else None
        )
        referrals.append(
            {
                "ServiceRequestId": rid,
                "LocalPatientId": str(r.person.public_id),
                "OrgIdProv": provider,
                "SourceOfReferralIAPT": r.source,
                "ReferralRequestReceivedDate": r.received_date.isoformat(),
                "ServDischDate": discharged.isoformat() if discharged else "",
                "EndCode": r.ending_reason if discharged else "",
                "ReportingPeriodStartDate": period.start.isoformat(),
                "ReportingPeriodEndDate": period.end.isoformat(),
            }
        )
        for c in r.conditions.all():
            conditions.append(
                {
                    "ServiceRequestId": rid,
                    "LocalPatientId": str(r.person.public_id),
                    "LongTermCondition": c.snomed_code,
                    "LongTermConditionName": c.concept.display,
                }
            )
        if r.problem_descriptor:
            complaints.append(
                {
                    "ServiceRequestId": rid,
                    "PresComp": r.problem_descriptor.replace(".", ""),
                    "PresCompCodSig": "01",
                }
            )
    contacts = []
    activities = []
    for contact in found.contacts:
        local = timezone.localtime(contact.starts_at)
        contact_id = f"{contact.referral.public_id}-{contact.pk}"
        contacts.append(
            {
                "CareContactId": contact_id,
                "ServiceRequestId": str(contact.referral.public_id),
                "CareContDate": local.date().isoformat(),
                "CareContTime": f"{local:%H:%M}",
                "AttendOrDNACode": contact.attendance,
                "ConsMediumUsed": codes.CONSULTATION_MEDIUM[contact.mode],
                "ActLocTypeCode": contact.mode,
                "ContactKind": contact.kind,
                "IntegratedLTC": "Y" if contact.integrated_ltc else "N",
            }
        )
        if contact.therapy_type:
            activities.append(
                {
                    "CareActId": f"{contact_id}-1",
                    "CareContactId": contact_id,
                    "CodeProcAndProcStatus": contact.therapy_type,
                    "Intensity": contact.intensity,
                }
            )
    scores = [
        {
            "ServiceRequestId": str(s.referral.public_id) if s.referral else "",
            "CodedAssToolType": measures.instrument(s.measure).snomed or "",
            "WholecareMeasure": s.measure,
            "PersScore": f"{s.total:g}",
            "AssToolCompDate": s.measured_on.isoformat(),
        }
        for s in found.scores
    ]
    return {
        "IDS101_Referral.csv": csv_bytes(COLUMNS["IDS101"], referrals),
        "IDS201_CareContact.csv": csv_bytes(COLUMNS["IDS201"], contacts),
        "IDS202_CareActivity.csv": csv_bytes(COLUMNS["IDS202"], activities),
        "IDS602_LongTermCondition.csv": csv_bytes(COLUMNS["IDS602"], conditions),
        "IDS603_PresentingComplaints.csv": csv_bytes(COLUMNS["IDS603"], complaints),
        "IDS606_CodedScoredAssessmentReferral.csv": csv_bytes(COLUMNS["IDS606"], scores),
    }


COLUMNS: dict[str, tuple[str, ...]] = {
    "IDS101": (
        "ServiceRequestId",
        "LocalPatientId",
        "OrgIdProv",
        "SourceOfReferralIAPT",
        "ReferralRequestReceivedDate",
        "ServDischDate",
        "EndCode",
        "ReportingPeriodStartDate",
        "ReportingPeriodEndDate",
    ),
    "IDS201": (
        "CareContactId",
        "ServiceRequestId",
        "CareContDate",
        "CareContTime",
        "AttendOrDNACode",
        "ConsMediumUsed",
        "ActLocTypeCode",
        "ContactKind",
        "IntegratedLTC",
    ),
    "IDS202": ("CareActId", "CareContactId", "CodeProcAndProcStatus", "Intensity"),
    "IDS602": ("ServiceRequestId", "LocalPatientId", "LongTermCondition", "LongTermConditionName"),
    "IDS603": ("ServiceRequestId", "PresComp", "PresCompCodSig"),
    "IDS606": (
        "ServiceRequestId",
        "CodedAssToolType",
        "WholecareMeasure",
        "PersScore",
        "AssToolCompDate",
    ),
}
