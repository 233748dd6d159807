import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Apart from 0018, so that PostgreSQL has checked the rows 0018 wrote before the column
    changes (one transaction cannot alter a table with pending foreign key checks)."""

    dependencies = [
        ("directory", "0001_initial"),
        ("record", "0018_care_plan_lead"),
    ]

    operations = [
        migrations.AlterField(
            model_name="careplan",
            name="lead",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="directory.staff",
            ),
        ),
    ]
