"""Tables for state every worker process must share, in the public schema only.

`tenants` is a shared-only app, so these exist once, in `public`; a comune's
connection reaches them through its search_path ("<comune>, public"). Keys
carry the schema name, so nothing crosses comuni.

- `iscrizioni_cache`: Django's DatabaseCache (same columns as
  `createcachetable`, which django-tenants' router would skip).
- `shared_counter`: attempt counters and single-use marks
  (core.shared_state), updated atomically with INSERT ... ON CONFLICT.
"""

from django.db import migrations

CACHE_SQL = """
CREATE TABLE iscrizioni_cache (
    cache_key varchar(255) NOT NULL PRIMARY KEY,
    value text NOT NULL,
    expires timestamp with time zone NOT NULL
);
CREATE INDEX iscrizioni_cache_expires ON iscrizioni_cache (expires);
"""

COUNTER_SQL = """
CREATE TABLE shared_counter (
    key varchar(255) NOT NULL PRIMARY KEY,
    count integer NOT NULL,
    expires_at timestamp with time zone NOT NULL
);
CREATE INDEX shared_counter_expires_at ON shared_counter (expires_at);
"""


class Migration(migrations.Migration):
    dependencies = [("tenants", "0001_initial")]

    operations = [
        migrations.RunSQL(CACHE_SQL, "DROP TABLE iscrizioni_cache;"),
        migrations.RunSQL(COUNTER_SQL, "DROP TABLE shared_counter;"),
    ]
