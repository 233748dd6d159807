from django.db import migrations, models


class Migration(migrations.Migration):
    """Apart from 0006: on PostgreSQL, 0006's update of a deferred foreign key leaves trigger
    events pending, and the table cannot be altered in the same transaction."""

    dependencies = [("record", "0006_social_care_need_status_changed")]

    operations = [
        migrations.AlterField(
            model_name="socialcareneed",
            name="status_changed_at",
            field=models.DateTimeField(),
        ),
    ]
