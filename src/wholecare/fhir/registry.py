"""The resource types the API serves, by name. The CapabilityStatement is generated from here."""

from functools import cache

from wholecare.fhir.base import ResourceType
from wholecare.fhir.errors import FhirError, Issue


@cache
def registered() -> dict[str, ResourceType]:
    from wholecare.fhir.mappers import (
        allergy_intolerance,
        appointment,
        audit_event,
        care_plan,
        care_team,
        condition,
        consent,
        document_reference,
        encounter,
        episode_of_care,
        flag,
        group,
        healthcare_service,
        medication,
        observation,
        organization,
        patient,
        practitioner,
        practitioner_role,
        questionnaire,
        questionnaire_response,
        service_request,
        task,
        terminology,
    )

    types: list[ResourceType] = [
        patient.PatientType(),
        practitioner.PractitionerType(),
        practitioner_role.PractitionerRoleType(),
        organization.OrganizationType(),
        healthcare_service.HealthcareServiceType(),
        group.GroupType(),
        care_team.CareTeamType(),
        condition.ConditionType(),
        allergy_intolerance.AllergyIntoleranceType(),
        observation.ObservationType(),
        questionnaire.QuestionnaireType(),
        questionnaire_response.QuestionnaireResponseType(),
        service_request.ServiceRequestType(),
        episode_of_care.EpisodeOfCareType(),
        encounter.EncounterType(),
        appointment.AppointmentType(),
        medication.MedicationStatementType(),
        medication.MedicationRequestType(),
        care_plan.CarePlanType(),
        task.TaskType(),
        document_reference.DocumentReferenceType(),
        consent.ConsentType(),
        flag.FlagType(),
        audit_event.AuditEventType(),
        terminology.CodeSystemType(),
        terminology.ValueSetType(),
        terminology.ConceptMapType(),
    ]
    return {kind.name: kind for kind in types}


def resource_type(name: str) -> ResourceType:
    try:
        return registered()[name]
    except KeyError:
        raise FhirError(
            404, [Issue("not-supported", f"This server has no resource type {name!r}")]
        ) from None
