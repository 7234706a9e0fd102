"""The comune administrator's invitation link, mailed from the operators' console.

The console runs on the public host; the link opens the comune's own host,
so it is reversed in the comunes' URLconf.
"""

from __future__ import annotations

from django.conf import settings

from identity.models import Account
from identity.token_links import TokenLink

ADMIN_INVITATION_LINK = TokenLink(
    url_name="invitation", kind=Account.Kind.STAFF, urlconf=settings.ROOT_URLCONF
)
