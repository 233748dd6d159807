"""Index the medicines other systems already sent by the structured medication review groups
they are in (decision 0043); statements sent from now on are indexed as they arrive."""

from typing import Any

from django.db import migrations

from wholecare.fhir.mappers.medication import REVIEW_GROUP, review_tokens

BATCH = 2000


def index(apps: Any, schema_editor: Any) -> None:
    resource = apps.get_model("fhir", "Resource")
    token = apps.get_model("fhir", "SearchToken")
    statements = resource.objects.filter(resource_type="MedicationStatement")
    batch = []
    for pk, content in statements.values_list("pk", "content").iterator(chunk_size=BATCH):
        batch += [
            token(resource_id=pk, param=param, system=system, value=value)
            for param, system, value in review_tokens(content)
        ]
        if len(batch) >= BATCH:
            token.objects.bulk_create(batch)
            batch = []
    token.objects.bulk_create(batch)


def unindex(apps: Any, schema_editor: Any) -> None:
    apps.get_model("fhir", "SearchToken").objects.filter(param=REVIEW_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [("fhir", "0007_token_refusal")]

    operations = [migrations.RunPython(index, unindex)]
