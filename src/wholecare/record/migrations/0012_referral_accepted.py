import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0001_initial"),
        ("record", "0011_referral_pathway"),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="accepted_at",
            field=models.DateTimeField(
                blank=True, help_text="When the service accepted it, having triaged it", null=True
            ),
        ),
        migrations.AddField(
            model_name="referral",
            name="accepted_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="referrals_accepted",
                to="directory.staff",
            ),
        ),
    ]
