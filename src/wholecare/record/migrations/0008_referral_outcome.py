import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0001_initial"),
        ("record", "0007_social_care_need_status_changed_required"),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="outcome",
            field=models.CharField(
                blank=True,
                choices=[
                    ("discharged", "Seen and discharged"),
                    ("declined", "Declined by the person"),
                    ("not-accepted", "Not accepted by the service"),
                    ("withdrawn", "Withdrawn by the referrer"),
                ],
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="referral",
            name="outcome_note",
            field=models.CharField(
                blank=True,
                help_text="Why it ended so, or what was done, for the referrer",
                max_length=500,
            ),
        ),
        migrations.AddField(
            model_name="referral",
            name="closed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="referrals_closed",
                to="directory.staff",
            ),
        ),
    ]
