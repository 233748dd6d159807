"""The monthly extract shaped like the NHS Talking Therapies data set: one CSV per table.

Tables and field names follow the data set's technical output specification (IDS101 Referral,
IDS201 Care Contact, IDS202 Care Activity, IDS602 Long Term Physical Health Condition, IDS603
Presenting Complaints, IDS606 Coded Scored Assessment (Referral)); docs/formats/
talking-therapies-dataset.md maps every column to the Wholecare field it comes from and says which
names could not be checked against the published specification.
"""

from wholecare import measures
from wholecare.directory.models import Service
from wholecare.record import vocabulary
from wholecare.talking_therapies import codes
from wholecare.talking_therapies.engine import Extract, Period, csv_bytes


def tables(found: Extract, service: Service, period: Period) -> dict[str, bytes]:
    provider = service.organisation.ods_code
    referrals = []
    conditions = []
    complaints = []
    for r in found.referrals:
        discharged = r["discharge_date"]
        referrals.append(
            {
                "ServiceRequestId": r["referral_id"],
                "LocalPatientId": r["person_id"],
                "OrgIdProv": provider,
                "SourceOfReferralIAPT": r["source"],
                "ReferralRequestReceivedDate": r["received_date"].isoformat(),
                "ServDischDate": discharged.isoformat() if discharged else "",
                "EndCode": r["ending_reason"],
                "ReportingPeriodStartDate": period.start.isoformat(),
                "ReportingPeriodEndDate": period.end.isoformat(),
            }
        )
        for code in r["conditions"]:
            conditions.append(
                {
                    "ServiceRequestId": r["referral_id"],
                    "LocalPatientId": r["person_id"],
                    "LongTermCondition": code,
                    "LongTermConditionName": vocabulary.condition(code).display,
                }
            )
        if r["problem_descriptor"]:
            complaints.append(
                {
                    "ServiceRequestId": r["referral_id"],
                    "PresComp": r["problem_descriptor"].replace(".", ""),
                    "PresCompCodSig": "01",
                }
            )
    contacts = []
    activities = []
    for c in found.contacts:
        contact_id = f"{c['referral_id']}-{c['pk']}"
        contacts.append(
            {
                "CareContactId": contact_id,
                "ServiceRequestId": c["referral_id"],
                "CareContDate": c["starts_at"].date().isoformat(),
                "CareContTime": f"{c['starts_at']:%H:%M}",
                "AttendOrDNACode": c["attendance"],
                "ConsMediumUsed": codes.CONSULTATION_MEDIUM[c["mode"]],
                "ActLocTypeCode": c["mode"],
                "ContactKind": c["kind"],
                "IntegratedLTC": "Y" if c["integrated_ltc"] else "N",
            }
        )
        if c["therapy_type"]:
            activities.append(
                {
                    "CareActId": f"{contact_id}-1",
                    "CareContactId": contact_id,
                    "CodeProcAndProcStatus": c["therapy_type"],
                    "Intensity": c["intensity"],
                }
            )
    scores = [
        {
            "ServiceRequestId": s["referral_id"],
            "CodedAssToolType": measures.instrument(s["measure"]).snomed or "",
            "WholecareMeasure": s["measure"],
            "PersScore": f"{s['total']:g}",
            "AssToolCompDate": s["measured_on"].isoformat(),
        }
        for s in found.scores
    ]
    return {
        "IDS101_Referral.csv": _table("IDS101", referrals),
        "IDS201_CareContact.csv": _table("IDS201", contacts),
        "IDS202_CareActivity.csv": _table("IDS202", activities),
        "IDS602_LongTermCondition.csv": _table("IDS602", conditions),
        "IDS603_PresentingComplaints.csv": _table("IDS603", complaints),
        "IDS606_CodedScoredAssessmentReferral.csv": _table("IDS606", scores),
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


def _table(name: str, rows: list[dict[str, str]]) -> bytes:
    columns = COLUMNS[name]
    return csv_bytes(columns, [[row[c] for c in columns] for row in rows])
