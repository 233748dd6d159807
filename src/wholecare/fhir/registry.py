"""The resource types the API serves, by name. The CapabilityStatement is generated from here."""

from functools import cache

from wholecare.fhir.base import ResourceType
from wholecare.fhir.errors import FhirError, Issue


@cache
def registered() -> dict[str, ResourceType]:
    from wholecare.fhir.mappers import patient

    types: list[ResourceType] = [patient.PatientType()]
    return {kind.name: kind for kind in types}


def resource_type(name: str) -> ResourceType:
    try:
        return registered()[name]
    except KeyError:
        raise FhirError(
            404, [Issue("not-supported", f"This server has no resource type {name!r}")]
        ) from None
