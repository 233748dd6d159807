"""The CapabilityStatement at /fhir/metadata, generated from what is registered, so it cannot claim
more than the server does."""

from typing import Any
from urllib.parse import urlsplit

from django.urls import reverse

from wholecare.fhir.interactions import revincludes
from wholecare.fhir.registry import registered

ORDER = (
    "read",
    "vread",
    "update",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
)
SMART_EXTENSION = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


def authorize_url(base: str) -> str:
    """The SMART authorization endpoint, a web page outside the FHIR base (decision 0012)."""
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}{reverse('oauth:authorize')}"


def capability_statement(base: str) -> dict[str, Any]:
    resources = []
    for kind in sorted(registered().values(), key=lambda k: k.name):
        offered = kind.interactions | kind.writable
        interactions = [name for name in ORDER if name in offered]
        entry: dict[str, Any] = {
            "type": kind.name,
            "interaction": [{"code": code} for code in interactions],
            "versioning": "versioned" if "vread" in offered else "no-version",
            "readHistory": "vread" in offered,
            "updateCreate": False,
            "conditionalCreate": "create" in kind.writable,
            "conditionalUpdate": False,
            "conditionalDelete": "not-supported",
            "searchParam": [
                {"name": param.name, "type": param.kind, "documentation": param.description}
                for param in kind.params.values()
            ],
        }
        sortable = sorted(kind.sortable())
        if sortable:
            entry["searchParam"].append(
                {
                    "name": "_sort",
                    "type": "special",
                    "documentation": f"Sort by {', '.join(sortable)}; a leading - for"
                    " descending; comma-separated for more than one",
                }
            )
        if kind.profile:
            entry["profile"] = kind.profile
        if kind.includes:
            entry["searchInclude"] = sorted(kind.includes)
        reverse = revincludes(kind.name)
        if reverse:
            entry["searchRevInclude"] = sorted(reverse)
        if "delete" not in offered:
            entry["documentation"] = " ".join(
                [kind.documentation, f"DELETE: {kind.name} {kind.undeletable}."]
            ).strip()
        elif kind.documentation:
            entry["documentation"] = kind.documentation
        if kind.operations:
            entry["operation"] = [
                {"name": name, "definition": definition}
                for name, definition in sorted(kind.operations.items())
            ]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-01",
        "publisher": "Wholecare",
        "kind": "instance",
        "software": {"name": "Wholecare", "version": "0.1.0"},
        "implementation": {"description": "Wholecare shared care record", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "application/fhir+xml"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Every interaction is audited. Access follows the record's rules: a"
                    " legitimate relationship opens a person's record; sensitive entries are"
                    " shared only where consent allows, and withheld ones are reported with an"
                    " OperationOutcome issue of code 'suppressed' (included resources too)."
                    " Nothing is destroyed: a DELETE marks a resource entered in error, after"
                    " which it is Gone (410) but kept in its history; types that cannot be"
                    " deleted say why in their documentation."
                ),
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/"
                                    "restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": (
                        "SMART App Launch 2 (standalone launch: authorization code with PKCE"
                        " S256, rotating refresh tokens; see .well-known/smart-configuration) and"
                        " the OAuth2 client credentials grant for back-end services; SMART scopes"
                        " patient/, user/ and system/ (v2 letters cruds or v1 read/write)."
                    ),
                    "extension": [
                        {
                            "url": SMART_EXTENSION,
                            "extension": [
                                {"url": "token", "valueUri": f"{base}/token"},
                                {"url": "authorize", "valueUri": authorize_url(base)},
                                {"url": "revoke", "valueUri": f"{base}/revoke"},
                            ],
                        }
                    ],
                },
                "resource": resources,
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
                "operation": [
                    {
                        "name": "export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                        "documentation": "FHIR Bulk Data $export (system level for back-end"
                        " clients with system/ scopes; Patient/$export and Group/<id>/$export"
                        " for the people the client may open): GET or POST with a Parameters"
                        " body, Prefer: respond-async; _type, _since, _typeFilter,"
                        " _outputFormat (NDJSON only), patient (POST); NDJSON per type.",
                    }
                ],
            }
        ],
    }
