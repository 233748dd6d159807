from django.db import migrations


def on_the_pathway(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Mark the shared-record referrals that Talking Therapies referrals extend, which close only
    by discharge on the pathway's pages (record decision 0021)."""
    referral = apps.get_model("record", "Referral")
    tt_referral = apps.get_model("talking_therapies", "TTReferral")
    referral.objects.filter(pk__in=tt_referral.objects.values("referral_id")).update(
        pathway="talking-therapies"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("record", "0011_referral_pathway"),
        ("talking_therapies", "0002_self_referral_conditions_optional"),
    ]

    operations = [migrations.RunPython(on_the_pathway, migrations.RunPython.noop)]
