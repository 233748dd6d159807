import django.db.models.deletion
from django.db import migrations, models
from django.db.models import F


def since_recorded(apps, schema_editor):  # type: ignore[no-untyped-def]
    need = apps.get_model("record", "SocialCareNeed")
    need.objects.update(status_changed_at=F("recorded_at"), status_changed_by=F("recorded_by"))


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0001_initial"),
        ("record", "0005_condition_entered_in_error"),
    ]

    operations = [
        migrations.AddField(
            model_name="socialcareneed",
            name="status_changed_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="socialcareneed",
            name="status_changed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="directory.staff",
            ),
        ),
        migrations.RunPython(since_recorded, migrations.RunPython.noop),
    ]
