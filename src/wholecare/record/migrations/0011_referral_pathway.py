from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("record", "0010_referral_closed_with_date_and_outcome"),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="pathway",
            field=models.CharField(
                blank=True,
                choices=[("", "None"), ("talking-therapies", "NHS Talking Therapies")],
                default="",
                max_length=20,
            ),
        ),
    ]
