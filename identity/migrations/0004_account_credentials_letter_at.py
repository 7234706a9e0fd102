"""Account.credentials_letter_at: the account's lettera credenziali, claimed once.

A submission used to ask whether the account's letter was already sent by
looking for it among the mails (an index on their attachments), and two
parallel first submissions both found none. The account's row now says it,
claimed by one UPDATE (identity.services.credentials_letter_claim). Accounts
that already had a letter get the time of their first one, so none is sent
twice across the release.
"""

from django.db import migrations, models

# Also run by tests/identity/test_credentials_letter_claim.py.
BACKFILL = """
UPDATE identity_account AS a
SET credentials_letter_at = letters.first_at
FROM (
    SELECT (attachment->'params'->>'account_id')::bigint AS account_id, min(m.created_at) AS first_at
    FROM core_outgoingemail AS m,
        jsonb_array_elements(CASE jsonb_typeof(m.attachments) WHEN 'array' THEN m.attachments ELSE '[]' END)
            AS attachment
    WHERE m.purpose = 'credentials_letter'
      AND attachment->>'document' = 'enrollment.lettera_credenziali'
      AND attachment->'params'->>'account_id' ~ '^[0-9]{1,18}$'
    GROUP BY 1
) AS letters
WHERE a.id = letters.account_id AND a.credentials_letter_at IS NULL
"""


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_outgoingemail_attachments_index"),
        ("identity", "0003_email_verification_outgoing_email"),
    ]

    operations = [
        migrations.AddField(
            model_name="account",
            name="credentials_letter_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
    ]
