"""The attachments' GIN index answered "was this account's credentials letter sent?".

The account's row answers it now (identity 0004, which reads the letters
once to fill it in), and no query looks inside attachments any more: the
index only cost every mail's insert.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_outgoingemail_attachments_index"),
        ("identity", "0004_account_credentials_letter_at"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="outgoingemail", name="outgoingemail_attachments"),
    ]
