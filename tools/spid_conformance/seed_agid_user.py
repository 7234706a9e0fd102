"""Mark the AgID test user of spid-sp-test as a parent with a verified e-mail in a comune.

spid-sp-test expects HTTP 200 after a correct Response. Our SP answers with
a redirect to the parent's next page, which for a new account is "Verifica
Email" (the identity app's step, outside SAML conformance). The conformance
run therefore starts with spid-sp-test's fixed test person (fiscalNumber
TINIT-GDASDV00A01H501J) already verified, so a correct login lands on the
comune's home page.

Run by run.py in its own process, which finds the project through PYTHONPATH
and the settings through DJANGO_SETTINGS_MODULE.
"""

import sys

import django

django.setup()

from django.utils import timezone  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from identity.services import parent_account_for_codice_fiscale  # noqa: E402

with schema_context(sys.argv[1]):
    account, _created = parent_account_for_codice_fiscale(
        codice_fiscale="GDASDV00A01H501J",
        first_name="SpidValidator",
        last_name="AgID",
        email="spid.tech@agid.gov.it",
    )
    if account.email_verified_at is None:
        account.email_verified_at = timezone.now()
        account.save(update_fields=["email_verified_at"])
