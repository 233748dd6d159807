import django.db.models.deletion
from django.db import migrations, models


def _from_client(apps, schema_editor):
    """Jobs queued before SMART App Launch came from client credentials tokens, which act as the
    client's own member of staff."""
    ExportJob = apps.get_model("fhir", "ExportJob")
    for job in ExportJob.objects.select_related("client"):
        job.staff_id = job.client.staff_id
        job.save(update_fields=["staff"])


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0001_initial"),
        ("fhir", "0005_smart_app_launch"),
    ]

    operations = [
        migrations.AddField(
            model_name="exportjob",
            name="staff",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="directory.staff",
            ),
        ),
        migrations.RunPython(_from_client, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="exportjob",
            name="staff",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="directory.staff",
            ),
        ),
    ]
