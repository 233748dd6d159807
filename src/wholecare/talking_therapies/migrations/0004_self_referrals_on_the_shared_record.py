"""Shared-record referrals made by accepting a self-referral say so (`Referral.self_referral`)."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

SELF_REFERRAL = "B1"


def mark(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    referral = apps.get_model("record", "Referral")
    tt_referral = apps.get_model("talking_therapies", "TTReferral")
    referral.objects.filter(
        referred_by__isnull=True,
        pk__in=tt_referral.objects.filter(source=SELF_REFERRAL).values("referral_id"),
    ).update(self_referral=True)


class Migration(migrations.Migration):
    dependencies = [
        ("talking_therapies", "0003_shared_referrals_on_the_pathway"),
        ("record", "0016_referral_self_referral"),
    ]

    operations = [migrations.RunPython(mark, migrations.RunPython.noop)]
