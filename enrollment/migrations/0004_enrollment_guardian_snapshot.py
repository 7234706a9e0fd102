"""Enrollments keep the guardian data they were submitted with.

Rows already out of `bozza` get today's guardian data: the earlier values
were overwritten in place and cannot be recovered, but from now on a later
form no longer changes them.
"""

from django.db import migrations, models

# Frozen copy of enrollment.rules.GUARDIAN_FIELDS as of this migration.
FIELDS = ("first_name", "last_name", "codice_fiscale", "email", "phone", "address", "cap", "city")
BATCH = 500


def fill_snapshots(apps, schema_editor):
    Enrollment = apps.get_model("enrollment", "Enrollment")
    rows = (
        Enrollment.objects.exclude(status="bozza")
        .filter(guardian_snapshot={})
        .select_related("guardian")
        .order_by("pk")
    )
    batch = []
    for e in rows.iterator(chunk_size=BATCH):
        e.guardian_snapshot = {f: getattr(e.guardian, f) for f in FIELDS}
        batch.append(e)
        if len(batch) >= BATCH:
            Enrollment.objects.bulk_update(batch, ["guardian_snapshot"])
            batch = []
    if batch:
        Enrollment.objects.bulk_update(batch, ["guardian_snapshot"])


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0003_backoffice_list_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="enrollment",
            name="guardian_snapshot",
            field=models.JSONField(
                blank=True, default=dict, verbose_name="dati del genitore/tutore all'invio"
            ),
        ),
        migrations.RunPython(fill_snapshots, migrations.RunPython.noop),
    ]
