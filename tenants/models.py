"""The comune (tenant), its hosts and its waiting room's state, in the public schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import pgettext
from django_tenants.models import DomainMixin, TenantMixin

from core.tenancy import tenant_connection, to_public

if TYPE_CHECKING:
    from tenants.config import ComuneConfig


class Comune(TenantMixin):
    class Kind(models.TextChoices):
        COMUNE = "Comune", "Comune"
        CITTA = "Città", "Città"

    class Status(models.TextChoices):
        ACTIVE = "attivo", "Attivo"
        SUSPENDED = "sospeso", "Sospeso"

    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField("nome", max_length=120)
    kind = models.CharField("tipo", max_length=10, choices=Kind.choices, default=Kind.COMUNE)
    province = models.CharField("provincia", max_length=60)
    province_code = models.CharField("sigla provincia", max_length=2, blank=True)
    cap = models.CharField("CAP", max_length=5, blank=True)
    codice_fiscale = models.CharField("codice fiscale", max_length=16, blank=True)
    partita_iva = models.CharField("partita IVA", max_length=11, blank=True)
    ipa_code = models.CharField("codice IPA", max_length=20, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    suspended_reason = models.CharField(max_length=300, blank=True)
    # The whole validated tenant config (tenants.config.ComuneConfig), so that
    # branding, contacts and login methods are read from one typed object.
    config = models.JSONField(default=dict)
    config_hash = models.CharField(max_length=64, blank=True)
    # A new random value whenever a service of the comune's catalogue changes
    # (tenants.services.comune_catalogue_changed): the portal caches what it shows
    # of the catalogue under it. Random, not a counter, so that a rolled-back
    # change can never leave a cached catalogue under a version reused later.
    catalogue_version = models.CharField(max_length=32, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    auto_create_schema = True
    auto_drop_schema = False
    # How a new schema is cloned from the template: tenants.provisioning.schema_clone,
    # set by TenantsConfig.ready() so that the model stays below provisioning
    # (which imports it) instead of importing it back.
    schema_cloner: ClassVar[Callable[..., bool] | None] = None
    # Set by `settings` on first use and cleared by services that change `config`.
    _settings_cache: ComuneConfig | None

    class Meta:
        ordering = ["name"]
        verbose_name = "comune"
        verbose_name_plural = "comuni"

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """'Comune di Palosco', 'Città di Romano di Lombardia'."""
        return f"{self.kind} di {self.name}"

    def create_schema(
        self, check_if_exists: bool = False, sync_schema: bool = True, verbosity: int = 1
    ) -> Any:
        """Clone the template with `schema_cloner`, whose time does not grow
        with the number of comuni; otherwise as django-tenants.

        The clone copies the template's django_migrations rows, so unlike
        django-tenants no `migrate --fake` follows: faking would mark as applied
        any migration the template has not run yet, while without it a schema
        cloned from a stale template shows as behind on the health page and
        `migrate_platform` brings it up to date.
        """
        from django_tenants.utils import get_creation_fakes_migrations, schema_exists

        base = self.get_base_schema()
        clone = type(self).schema_cloner
        if (
            clone is not None
            and sync_schema
            and get_creation_fakes_migrations()
            and base
            and schema_exists(base)
            and not (check_if_exists and schema_exists(self.schema_name))
            and clone(template=base, new=self.schema_name)
        ):
            to_public()
            return True
        try:
            return super().create_schema(
                check_if_exists=check_if_exists, sync_schema=sync_schema, verbosity=verbosity
            )
        finally:
            # django-tenants' clone_schema() sets the path in PL/pgSQL: set it again.
            tenant_connection().search_path_forget()

    @property
    def display_name_with_article(self) -> str:
        """'del Comune di Palosco', 'della Città di Romano di Lombardia'."""
        article = "della" if self.kind == self.Kind.CITTA else "del"
        return f"{article} {self.display_name}"

    @property
    def display_name_the(self) -> str:
        """'il Comune di Palosco', 'la Città di Romano di Lombardia'."""
        article = "la" if self.kind == self.Kind.CITTA else "il"
        return f"{article} {self.display_name}"

    # The same phrases in the reader's language, for the translated pages
    # (footer, privacy, accessibility, parents' mails and PDFs): English has no article to agree.
    @property
    def name_of_translated(self) -> str:
        """'del Comune di Palosco' in Italian, 'of Comune di Palosco' in English."""
        if self.kind == self.Kind.CITTA:
            return pgettext("di + città", "della %(name)s") % {"name": self.display_name}
        return pgettext("di + comune", "del %(name)s") % {"name": self.display_name}

    @property
    def name_the_translated(self) -> str:
        """'il Comune di Palosco' in Italian, 'Comune di Palosco' in English."""
        if self.kind == self.Kind.CITTA:
            return pgettext("articolo + città", "la %(name)s") % {"name": self.display_name}
        return pgettext("articolo + comune", "il %(name)s") % {"name": self.display_name}

    @property
    def name_to_translated(self) -> str:
        """'al Comune di Palosco' in Italian, 'to Comune di Palosco' in English."""
        if self.kind == self.Kind.CITTA:
            return pgettext("a + città", "alla %(name)s") % {"name": self.display_name}
        return pgettext("a + comune", "al %(name)s") % {"name": self.display_name}

    @property
    def display_name_to(self) -> str:
        """'al Comune di Palosco', 'alla Città di Romano di Lombardia'."""
        article = "alla" if self.kind == self.Kind.CITTA else "al"
        return f"{article} {self.display_name}"

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED

    @property
    def settings(self) -> ComuneConfig:
        """The typed configuration: validated once per process for each stored
        version (tenants.config.config_from_stored), looked up once per instance."""
        cached = getattr(self, "_settings_cache", None)
        if cached is None:
            from tenants.config import config_from_stored

            cached = config_from_stored(self.config, schema_name=self.schema_name, digest=self.config_digest)
            self._settings_cache = cached
        return cached

    @property
    def config_digest(self) -> str:
        """tenants.config.config_digest of `config`, computed once for each config object.

        Kept on the instance next to the very dict it digests, so a pickled copy
        (what the host caches hand out, __getstate__) carries it, and a `config`
        assigned anew is digested again. It was two JSON dumps and hashes of the
        whole config on every request (7 % of a portal home's CPU under load,
        py-spy)."""
        memo = self.__dict__.get("_config_digest")
        if memo is None or memo[0] is not self.config:
            from tenants.config import config_digest

            memo = (self.config, config_digest(self.config))
            self._config_digest = memo
        return memo[1]

    def __getstate__(self) -> dict[str, Any]:
        self.config_digest  # noqa: B018 (digested before pickling: every copy carries it)
        return super().__getstate__()

    @property
    def shell_version(self) -> str:
        """Changes whenever anything the page shell shows of the comune changes
        (its config, name, province, codes): the key of its cached fragments."""
        fields = (self.kind, self.name, self.province, self.cap, self.codice_fiscale)
        return self.config_digest + ":" + "|".join(fields)


class Domain(DomainMixin):
    class Meta:
        verbose_name = "host"
        verbose_name_plural = "host"


class WaitingTicket(models.Model):
    """One arrival's place in a comune's waiting room (tenants.waiting_room).

    In the public schema, so that every worker and every instance reads the
    same queue; each row names its comune's schema and is only ever read
    with it.
    """

    schema_name = models.CharField(max_length=63)
    created_at = models.DateTimeField(default=timezone.now)
    # The waiting page reloads itself: a ticket not seen for a while belongs
    # to someone who left, and is skipped instead of holding the queue.
    seen_at = models.DateTimeField(default=timezone.now)
    admitted_at = models.DateTimeField(null=True, blank=True)
    # When its browser first came in with it: a copy of the ticket is let in only shortly after
    # (tenants.waiting_room.ENTRY_GRACE), then counts as a new arrival.
    entered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["schema_name", "admitted_at", "id"], name="waiting_ticket_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.schema_name} #{self.pk}"


class InFlightRequest(models.Model):
    """A parents' request being served right now on a comune with the waiting room on.

    One row per request, deleted when it ends; a row left by a killed process
    stops counting after WAITING_ROOM_REQUEST_SECONDS.
    """

    schema_name = models.CharField(max_length=63)
    started_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["schema_name", "started_at"], name="inflight_request_alive")]

    def __str__(self) -> str:
        return f"{self.schema_name} {self.started_at:%H:%M:%S}"
