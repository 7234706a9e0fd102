"""Accounts. The table exists in every schema: the public schema holds the
platform operators, each comune's schema its own parents and staff."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone


class AccountManager(BaseUserManager["Account"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **extra: Any) -> Account:
        if not username:
            raise ValueError("username is required")
        account = self.model(username=username, **extra)
        if password:
            account.set_password(password)
        else:
            account.set_unusable_password()
        account.save(using=self._db)
        return account

    def create_superuser(self, username: str, password: str | None = None, **extra: Any) -> Account:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("kind", Account.Kind.OPERATOR)
        return self.create_user(username, password, **extra)


class Account(AbstractBaseUser, PermissionsMixin):
    class Kind(models.TextChoices):
        PARENT = "genitore", "Genitore/tutore"
        STAFF = "staff", "Personale del comune"
        OPERATOR = "operatore", "Operatore della piattaforma"

    # The login identifier: a codice utente (PAL-000123), a pupil's codice
    # fiscale for "Sono un nuovo iscritto" accounts, or an operator's name.
    username = models.CharField("codice utente", max_length=150, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PARENT)
    codice_fiscale = models.CharField("codice fiscale", max_length=16, blank=True, db_index=True)
    # Issued by the comune for the `credentials` backend (PAL-000123); an
    # account created by "Sono un nuovo iscritto" gets one when its
    # "lettera credenziali" is issued.
    codice_utente = models.CharField("codice utente", max_length=20, unique=True, null=True, blank=True)
    first_name = models.CharField("nome", max_length=150, blank=True)
    last_name = models.CharField("cognome", max_length=150, blank=True)
    # The login backend whose first access created the account. Only an
    # account created by "Sono un nuovo iscritto" may be re-entered with the
    # codice fiscale alone; an SPID/CIE parent's account never can.
    created_by_backend = models.CharField(max_length=20, blank=True)
    email = models.EmailField("email", blank=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    must_change_password = models.BooleanField(default=False)
    # When the submission that sends the account's lettera credenziali claimed
    # it: only an account's first submission sends one (identity.services.credentials_letter_claim).
    credentials_letter_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = AccountManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = "account"
        verbose_name_plural = "account"

    def __str__(self) -> str:
        full = f"{self.first_name} {self.last_name}".strip()
        return f"{full} ({self.username})" if full else self.username

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.username


class EmailVerification(models.Model):
    """One "Codice sicurezza" sent to confirm an address ("Verifica Email").

    Only a hash of the code is stored. The latest row of an account is the
    only one that can be confirmed; older ones are superseded by a new send.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="email_verifications")
    email = models.EmailField()
    code_hash = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    # The message carrying the code: "Inserimento Codice sicurezza" tells the
    # person whether it left, is still queued or could not be sent.
    outgoing_email = models.ForeignKey(
        "core.OutgoingEmail", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "verifica email"
        verbose_name_plural = "verifiche email"
        indexes = [models.Index(fields=["email", "created_at"])]

    def __str__(self) -> str:
        return f"{self.email} ({self.created_at:%Y-%m-%d %H:%M})"
