"""Test profile: `make test`. Real PostgreSQL, fast hashing, mail to tests' SMTP."""

import tempfile
from pathlib import Path

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-key"  # noqa: S105
ALLOWED_HOSTS = [".localhost", "localhost", "testserver", ".test"]
# Argon2 stays first so its use is tested; tests that create many accounts
# pay ~50 ms each, which is fine at this suite's size.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Rendered PDFs of the test run go to a temporary folder, not .data/.
DOCUMENTS_DIR = Path(tempfile.mkdtemp(prefix="iscrizioni-test-documenti-"))
UPLOADS_DIR = Path(tempfile.mkdtemp(prefix="iscrizioni-test-allegati-"))
# A test's rolled-back writes send no notification, so a process-local copy
# could outlive them: only tests/tenants/test_host_cache.py, which commits,
# turns it on.
HOSTS_LOCAL_CACHE = False
