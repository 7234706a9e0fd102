"""A comune's URLs plus views that fail, to see the error pages of a bug."""

from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from config.urls_tenant import *  # noqa: F403 (the handlers)
from config.urls_tenant import urlpatterns as tenant_urlpatterns


def failing_page(request):  # type: ignore[no-untyped-def]
    raise RuntimeError("a bug in a page")


@api_view(["GET"])
@permission_classes([AllowAny])
def failing_api(request):  # type: ignore[no-untyped-def]
    raise RuntimeError("a bug in the API")


urlpatterns = [
    path("guasto/", failing_page),
    path("api/v1/guasto/", failing_api),
    *tenant_urlpatterns,
]
