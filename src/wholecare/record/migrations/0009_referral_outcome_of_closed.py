from django.db import migrations
from django.db.models import F


def discharged(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Referrals closed before outcomes were recorded were closed by discharge (NHS Talking
    Therapies, or the demonstration); one closed without a date is taken to have closed the day
    it was received, the only date the record holds for it."""
    referral = apps.get_model("record", "Referral")
    closed = referral.objects.filter(status="closed")
    closed.filter(closed_date__isnull=True).update(closed_date=F("received_date"))
    closed.update(outcome="discharged")
    referral.objects.filter(status="open").update(closed_date=None)


class Migration(migrations.Migration):
    """Apart from 0008: on PostgreSQL, updating the table leaves trigger events pending, and
    0008's index on the new foreign key cannot then be created in the same transaction."""

    dependencies = [("record", "0008_referral_outcome")]

    operations = [migrations.RunPython(discharged, migrations.RunPython.noop)]
