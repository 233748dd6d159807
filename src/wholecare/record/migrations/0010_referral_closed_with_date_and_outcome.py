from django.db import migrations, models


class Migration(migrations.Migration):
    """Apart from 0009, so that its updates are committed before the table is altered (see
    0007)."""

    dependencies = [
        ("directory", "0001_initial"),
        ("record", "0009_referral_outcome_of_closed"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="referral",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("closed_date__isnull", True), ("outcome", ""), ("status", "open")),
                    models.Q(
                        ("closed_date__isnull", False),
                        ("status", "closed"),
                        models.Q(("outcome", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="referral_closed_with_date_and_outcome",
            ),
        ),
    ]
