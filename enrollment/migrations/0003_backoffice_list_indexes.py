"""Indexes for the staff back office's list at 10,000 enrollments per comune
(bench/backoffice_list.py).

Plain SQL, without model state: the enrollment models belong to the parents'
side and stay untouched; the lead may move these to `Meta.indexes` later
(same names, so the SQL below becomes a no-op).
"""

from django.db import migrations

INDEXES = [
    # Default order of the list (most recent submission first) and the date-range filter.
    ("enrollment_submitted_id", "enrollment_enrollment", "(submitted_at, id)"),
    ("enrollment_year_status", "enrollment_enrollment", "(school_year, status)"),
    # Name search is a case-insensitive prefix: UPPER(col) LIKE 'ROSS%'.
    ("pupil_upper_last_name", "enrollment_pupil", "(UPPER(last_name) text_pattern_ops)"),
    ("pupil_upper_first_name", "enrollment_pupil", "(UPPER(first_name) text_pattern_ops)"),
    ("guardian_upper_last_name", "enrollment_guardian", "(UPPER(last_name) text_pattern_ops)"),
    ("guardian_upper_first_name", "enrollment_guardian", "(UPPER(first_name) text_pattern_ops)"),
]


class Migration(migrations.Migration):
    dependencies = [("enrollment", "0002_guardian_pupil_enrollment")]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {table} {columns}",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, table, columns in INDEXES
    ]
