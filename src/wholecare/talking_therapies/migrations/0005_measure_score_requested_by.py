import datetime as dt
from typing import Any

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone


def requested_by_the_sender(apps: Any, schema_editor: Any) -> None:
    """Each score the person completed from a link, before scores said who sent it: the link
    that was used on the day it is dated, for that person, referral and questionnaire."""
    Invitation = apps.get_model("talking_therapies", "QuestionnaireInvitation")
    MeasureScore = apps.get_model("talking_therapies", "MeasureScore")
    for invitation in Invitation.objects.filter(used_at__isnull=False):
        day: dt.date = timezone.localtime(invitation.used_at).date()
        MeasureScore.objects.filter(
            person_id=invitation.person_id,
            referral_id=invitation.referral_id,
            measure__in=invitation.measures,
            measured_on=day,
            entered_via="person",
            requested_by__isnull=True,
        ).update(requested_by_id=invitation.created_by_id)


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0001_initial"),
        ("talking_therapies", "0004_self_referrals_on_the_shared_record"),
    ]

    operations = [
        migrations.AddField(
            model_name="measurescore",
            name="requested_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="directory.staff",
            ),
        ),
        migrations.RunPython(requested_by_the_sender, migrations.RunPython.noop),
    ]
