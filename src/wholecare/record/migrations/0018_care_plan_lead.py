from typing import Any

import django.db.models.deletion
from django.db import migrations, models


def lead_is_the_writer(apps: Any, schema_editor: Any) -> None:
    """Each plan written before plans named a coordinator is coordinated by whoever wrote it,
    as its review reminder went to them."""
    CarePlan = apps.get_model("record", "CarePlan")
    CarePlan.objects.update(lead=models.F("written_by"))


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0001_initial"),
        ("record", "0017_care_plan_action_status_by_person"),
    ]

    operations = [
        migrations.AddField(
            model_name="careplan",
            name="lead",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="directory.staff",
            ),
        ),
        migrations.RunPython(lead_is_the_writer, migrations.RunPython.noop),
    ]
