"""SPID/CIE URLs for `config/urls_tenant.py`.

The identity app's `identity/urls.py` mounts every backend under
`/accesso/<key>/` with namespace `<key>`; this module does the same for the
two SAML backends (and the development demo IdP) so they can be mounted and
tested on their own.
"""

from django.urls import include, path

from identity.cie.backend import CieBackend
from identity.spid.backend import SpidBackend

urlpatterns = [
    path("accesso/spid/", include((SpidBackend().urlpatterns(), "spid"), namespace="spid")),
    path("accesso/cie/", include((CieBackend().urlpatterns(), "cie"), namespace="cie")),
    path("spid-demo-idp/", include("identity.spid.demo_idp.urls")),
]
