"""Hypothesis fuzzes every FHIR endpoint: random types, ids, search parameters and values, bodies
(random JSON, mutated valid resources, random bytes as JSON or XML) and headers. No input may
produce a 500, and every answer is FHIR (a resource, a Bundle or an OperationOutcome)."""

import json
from typing import Any
from unittest import mock
from urllib.parse import urlencode

from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from tests import factories
from tests.app.fhir.conftest import patient_resource
from tests.app.fhir.test_delete import observation
from wholecare.fhir import bulk_export
from wholecare.fhir.auth import client_register, token_issue
from wholecare.fhir.registry import registered

TYPES = [*sorted(registered()), "Spaceship", "patient", "Bundle"]
PARAMS = sorted(
    {name for kind in registered().values() for name in kind.params}
    | {"_count", "_offset", "_include", "_revinclude", "_format", "_sort", "colour"}
    | {"identifier:exact"}
)
VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "ge2024-01-01",
            "eb2026",
            "ne2025-13-40",
            "sa2020-02-29T10:00:00Z",
            "xx2024",
            "-1",
            "101",
            "https://fhir.nhs.uk/Id/nhs-number|9990000018",
            "|",
            "Patient/",
            "Condition:patient",
            "Observation:subject",
            "-date",
            "_lastUpdated,-birthdate",
            "-",
            "Patient/../../etc",
            "1e9",
            "9" * 40,
        ]
    ),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
FHIR_TYPES = ("application/fhir+json", "application/fhir+xml")


def _mutated(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda key, value: {**base, key: value},
        st.sampled_from([*base, "subject", "code", "status", "id", "meta", "item", "extension"]),
        JSON,
    )


BODIES = st.one_of(
    JSON.map(json.dumps),
    _mutated(patient_resource("9990000018")).map(json.dumps),
    _mutated(
        {
            "resourceType": "Condition",
            "subject": {"reference": "Patient/x"},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}]},
        }
    ).map(json.dumps),
    _mutated({"resourceType": "Bundle", "type": "transaction", "entry": []}).map(json.dumps),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
)


OPERATIONS = ["lookup", "validate-code", "expand", "translate", "export", "subsumes", "everything"]
OPERATION_PARAMS = [
    "system",
    "code",
    "version",
    "url",
    "display",
    "valueSetVersion",
    "systemVersion",
    "filter",
    "offset",
    "count",
    "conceptMapVersion",
    "targetsystem",
    "reverse",
    "coding",
    "_type",
    "_since",
    "_outputFormat",
    "_format",
]
PARAMETERS = st.builds(
    lambda parameters: json.dumps({"resourceType": "Parameters", "parameter": parameters}),
    st.lists(
        st.fixed_dictionaries(
            {"name": st.sampled_from(OPERATION_PARAMS)},
            optional={
                "valueString": st.text(max_size=20),
                "valueUri": st.sampled_from(
                    ["http://snomed.info/sct", "https://wholecare.example.org/ValueSet/x", ""]
                ),
                "valueInteger": st.integers(),
                "valueBoolean": st.booleans(),
                "valueCoding": JSON,
            },
        ),
        max_size=4,
    ),
)


class FuzzTheEndpoints(TestCase):
    def setUp(self) -> None:
        gp = factories.StaffFactory(discipline="gp")
        membership = factories.CareTeamMembershipFactory(staff=gp)
        api_client, _ = client_register(name="fuzz", staff=gp, allowed_scopes="user/*.cruds")
        token, _ = token_issue(client=api_client, scope="user/*.cruds")
        self.api = Client(headers={"Authorization": f"Bearer {token}"})
        self.person = membership.person

    def _check(self, response: Any) -> None:
        assert response.status_code < 500, response.content[:500]
        assert response["Content-Type"].startswith(FHIR_TYPES), response["Content-Type"]
        if response["Content-Type"].startswith("application/fhir+json"):
            assert "resourceType" in json.loads(response.content)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        resource_type=st.sampled_from(TYPES),
        fhir_id=st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9\-\.]{1,64}", fullmatch=True)),
        query=st.lists(st.tuples(st.sampled_from(PARAMS), VALUES), max_size=4),
        history=st.booleans(),
    )
    def test_reads_and_searches(self, resource_type, fhir_id, query, history) -> None:
        path = f"/fhir/{resource_type}"
        if fhir_id is not None:
            path += f"/{fhir_id}"
        if history:
            path += "/_history"
        self._check(self.api.get(path, query))

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        resource_type=st.sampled_from([*TYPES, ""]),
        method=st.sampled_from(["post", "put"]),
        body=BODIES,
        content_type=st.sampled_from([*FHIR_TYPES, "application/json", "text/plain"]),
        if_match=st.one_of(st.none(), st.sampled_from(['W/"1"', '"x"', "*", ""])),
    )
    def test_writes(self, resource_type, method, body, content_type, if_match) -> None:
        path = f"/fhir/{resource_type}" + ("/some-id" if method == "put" else "")
        headers = {"If-Match": if_match} if if_match is not None else {}
        response = getattr(self.api, method)(path, body, content_type=content_type, headers=headers)
        self._check(response)

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        resource_type=st.sampled_from([*TYPES, "", "Observation"]),
        fhir_id=st.one_of(
            st.none(),
            st.just("kept"),
            st.from_regex(r"[A-Za-z0-9\-\.]{1,64}", fullmatch=True),
        ),
        query=st.lists(st.tuples(st.sampled_from(PARAMS), VALUES), max_size=2),
        if_match=st.one_of(st.none(), st.sampled_from(['W/"1"', '"x"', "*", ""])),
    )
    def test_deletes(self, resource_type, fhir_id, query, if_match) -> None:
        """Including deletes (and repeated deletes) of an Observation that exists."""
        if fhir_id == "kept":
            created = self.api.post(
                "/fhir/Observation",
                json.dumps(observation(self.person)),
                content_type="application/fhir+json",
            )
            fhir_id = created.json()["id"]
        path = f"/fhir/{resource_type}" + (f"/{fhir_id}" if fhir_id is not None else "")
        if query:
            path += "?" + urlencode(query)
        headers = {"If-Match": if_match} if if_match is not None else {}
        response = self.api.delete(path, headers=headers)
        self._check(response)
        assert response.status_code in {200, 400, 403, 404, 405, 406, 410, 412}, response.content

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        resource_type=st.sampled_from(["", "CodeSystem", "ValueSet", "ConceptMap", "Patient"]),
        operation=st.sampled_from(OPERATIONS),
        query=st.lists(st.tuples(st.sampled_from(OPERATION_PARAMS), VALUES), max_size=4),
        body=st.one_of(st.none(), PARAMETERS, BODIES),
        prefer=st.sampled_from(["", "respond-async"]),
    )
    def test_operations_and_bulk_export(self, resource_type, operation, query, body, prefer):
        path = f"/fhir/{resource_type}/${operation}".replace("//", "/")
        headers = {"Prefer": prefer}
        with mock.patch.object(bulk_export, "start_worker"):
            if body is None:
                response = self.api.get(path, query, headers=headers)
            else:
                response = self.api.post(
                    path, body, content_type="application/fhir+json", headers=headers
                )
        self._check(response)
        if response.status_code == 202:
            status = self.api.get(response["Content-Location"].removeprefix("http://testserver"))
            self._check(status)
            self._check(self.api.delete(status.wsgi_request.path))

    @settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        job=st.one_of(st.uuids().map(str), st.from_regex(r"[0-9a-f\-]{1,36}", fullmatch=True)),
        name=st.sampled_from(["Patient", "Observation", "x"]),
        method=st.sampled_from(["get", "delete", "post"]),
    )
    def test_export_status_and_files_of_jobs_that_are_not_yours(self, job, name, method):
        for path in (f"/fhir/$export-status/{job}", f"/fhir/$export-file/{job}/{name}.ndjson"):
            response = getattr(self.api, method)(path)
            self._check(response)
            assert response.status_code in {404, 405}
