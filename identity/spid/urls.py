"""The development demo IdP's URLs (the SPID/CIE SP URLs are mounted by identity/urls.py).

The demo IdP answers 404 and is untrusted unless both DEBUG and SPID_DEMO_IDP are on.
"""

from django.urls import include, path

urlpatterns = [
    path("spid-demo-idp/", include("identity.spid.demo_idp.urls")),
]
