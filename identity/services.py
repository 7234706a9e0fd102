"""Writes on accounts and sessions of the current comune."""

from __future__ import annotations

import logging
import secrets
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, login, logout, update_session_auth_hash
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from core.services import audit_record, email_enqueue
from identity import ratelimit
from identity.access import (
    NEW_ENROLLMENT_URL,
    PARENT_HOME_URL,
    PASSWORD_CHANGE_DEFERRED,
    parent_access_problem,
    password_change_defer,
)
from identity.models import Account
from identity.selectors import (
    account_for_codice_fiscale_login,
    account_for_codice_utente,
    account_for_password_reset,
    comune_current,
)
from identity.token_links import PASSWORD_RESET_LINK
from identity.validators import identifier_normalize
from tenants.models import Comune

logger = logging.getLogger(__name__)

# Readable generated passwords: no 0/O, 1/l/I.
_READABLE_LETTERS = "abcdefghjkmnpqrstuvwxyz"
_READABLE_DIGITS = "23456789"

LOGIN_FAILED_MESSAGE = "Credenziali non corrette. Verificare i dati inseriti e riprovare."
CF_LOGIN_FAILED_MESSAGE = "Codice fiscale o password non corretti. Verificare i dati inseriti e riprovare."
# Neutral on purpose: it does not say what the account holds, nor since when.
CF_PASSWORD_NEEDED_MESSAGE = (
    "Per continuare inserire anche la Password ricevuta via email e premere di nuovo "  # noqa: S105 (a message)
    "'Sono un nuovo iscritto'. Se non la si trova, usare 'Password dimenticata'."
)


class AccessError(Exception):
    """A refusal with a message for the user; `field` names the form field it belongs to."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class IssuedCredentials:
    codice_utente: str
    password: str


def _readable_password() -> str:
    """Like `kbtr-4827-mupe`: easy to copy from a letter, 14 characters, ~55 bits."""

    def part(alphabet: str) -> str:
        return "".join(secrets.choice(alphabet) for _ in range(4))

    return f"{part(_READABLE_LETTERS)}-{part(_READABLE_DIGITS)}-{part(_READABLE_LETTERS)}"


def safe_next_url(request: HttpRequest, default: str = PARENT_HOME_URL) -> str:
    """The `next` parameter when it points back to this same host, else `default`."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def login_complete(
    *, request: HttpRequest, account: Account, backend_key: str, next_url: str | None = None
) -> str:
    """Log `account` in (new session id), audit it, and return where to go next.

    Every backend ends here, so the shared steps (forced "Cambio Password",
    "Verifica Email") cannot be skipped by any way in.
    """
    with transaction.atomic():
        login(request, account, backend="django.contrib.auth.backends.ModelBackend")
        request.session.pop(PASSWORD_CHANGE_DEFERRED, None)
        request.session["login_backend"] = backend_key
        audit_record(
            action="login.success",
            actor=account,
            obj=account,
            data={"backend": backend_key},
            request=request,
        )
    destination = next_url or safe_next_url(request)
    step = parent_access_problem(request) if account.kind == Account.Kind.PARENT else None
    if step is not None:
        request.session["after_access_url"] = destination
        return step
    return destination


def parent_account_for_codice_fiscale(
    *, codice_fiscale: str, first_name: str = "", last_name: str = "", email: str = ""
) -> tuple[Account, bool]:
    """Find the parent account of a person identified by an IdP (SPID/CIE), or create it.

    Returns (account, created). The codice fiscale is the identity: names and
    e-mail from the IdP fill empty fields but never overwrite what the parent
    verified or corrected.
    """
    cf = codice_fiscale.strip().upper()
    with transaction.atomic():
        # Not an account opened by "Sono un nuovo iscritto": its codice fiscale is the one someone
        # typed, a pupil's, and anyone may type a parent's there; an IdP's proves the person.
        account = (
            Account.objects.select_for_update()
            .filter(kind=Account.Kind.PARENT, codice_fiscale=cf)
            .exclude(created_by_backend="codice_fiscale")
            .order_by("id")
            .first()
        )
        if account is None:
            # Its login name is the codice fiscale, unless such an account took it first.
            for username in (cf, f"IDP-{cf}"):
                account, created = _parent_create_or_read(
                    username=username,
                    kind=Account.Kind.PARENT,
                    codice_fiscale=cf,
                    first_name=first_name,
                    last_name=last_name,
                    email=email,
                )
                if created:
                    return account, True
                if (account.kind, account.codice_fiscale) == (Account.Kind.PARENT, cf) and (
                    account.created_by_backend != "codice_fiscale"
                ):
                    break  # a parallel first login of this person made it
                # Else the name is another account's (one opened by "Sono un nuovo iscritto"): the next.
            else:
                raise RuntimeError(f"no login name left for the codice fiscale {cf}")
        changed = []
        for field, value in (("first_name", first_name), ("last_name", last_name), ("email", email)):
            if value and not getattr(account, field):
                setattr(account, field, value)
                changed.append(field)
        if changed:
            account.save(update_fields=changed)
        return account, False


def _parent_create_or_read(*, username: str, **fields: Any) -> tuple[Account, bool]:
    """(account, created): a new account named `username`, or the one a parallel request made first.

    Two first accesses at once (a double click, two tabs, two devices) both find no account: a
    row lock on a row that does not exist locks nothing. The second insert waits for the first
    and fails on the unique name; in a savepoint, so its transaction goes on with the account the
    first one committed, read under its lock."""
    try:
        with transaction.atomic():
            return Account.objects.create_user(username=username, **fields), True
    except IntegrityError:
        return Account.objects.select_for_update().get(username=username), False


def _codice_utente_allocate(comune: Comune) -> str:
    prefix = comune.slug[:3].upper()
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval('identity_codice_utente_seq')")
            number = cursor.fetchone()[0]
        candidate = f"{prefix}-{number:06d}"
        # Codes set by hand (demo, imports) are skipped, never reused.
        if not Account.objects.filter(codice_utente=candidate).exists():
            return candidate


def codice_utente_assign(*, account: Account, by: Account | None = None) -> str:
    """Give `account` a codice utente if it has none; its password is left as it is.

    A family that entered with "Sono un nuovo iscritto" keeps the password it
    chose and gets a codice utente for the renewals of the following years.
    """
    with transaction.atomic(savepoint=False):  # called inside a submission: no savepoint trips
        account = Account.objects.select_for_update().get(pk=account.pk)
        if not account.codice_utente:
            account.codice_utente = _codice_utente_allocate(comune_current())
            account.save(update_fields=["codice_utente"])
            audit_record(
                action="credentials.codice_utente_assigned",
                actor=by,
                obj=account,
                data={"codice_utente": account.codice_utente},
                actor_label="" if by else "sistema",
            )
    return account.codice_utente


def credentials_issue(*, account: Account, by: Account | None = None) -> IssuedCredentials:
    """Give `account` a codice utente (if it has none) and a new initial password.

    The clear password is returned once, for the "lettera credenziali"; only
    its hash is stored. The next login must change it ("Cambio Password").
    """
    password = _readable_password()
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        fields = ["password", "must_change_password"]
        if not account.codice_utente:
            account.codice_utente = _codice_utente_allocate(comune_current())
            fields.append("codice_utente")
        account.set_password(password)
        account.must_change_password = True
        account.save(update_fields=fields)
        audit_record(
            action="credentials.issue",
            actor=by,
            obj=account,
            data={"codice_utente": account.codice_utente},
            actor_label="" if by else "sistema",
        )
    return IssuedCredentials(codice_utente=account.codice_utente, password=password)


def email_mask(email: str) -> str:
    """`m***@example.it`: enough for the parent to recognise the address, little for anyone else."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def temporary_password_issue(*, account: Account) -> None:
    """Set a temporary password and mail it to the account's verified address.

    From then on the codice fiscale alone no longer opens the account: the
    password (or "Password dimenticata", to the same address) is needed.
    """
    if not account.email or account.email_verified_at is None:
        raise AccessError("Per inviare la password temporanea serve un indirizzo email verificato.")
    password = _readable_password()
    comune = comune_current()
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        account.set_password(password)
        account.must_change_password = True
        account.save(update_fields=["password", "must_change_password"])
        email_enqueue(
            to=[account.email],
            subject=f"Password temporanea - {comune.display_name}",
            body=(
                f"Gentile utente,\n\n"
                f"i dati dell'iscrizione per il codice fiscale alunno {account.username} sono stati "
                f"salvati sul Portale Iscrizioni Online {comune.display_name_with_article}.\n"
                f'Per accedere di nuovo, nella sezione "Sono un nuovo iscritto" inserire il Codice '
                f"Fiscale Alunno e questa password temporanea:\n\n"
                f"    {password}\n\n"
                f"Al primo accesso verrà chiesto di scegliere una password personale "
                f"(Cambio Password). Se non ha compilato lei l'iscrizione, contatti l'ufficio.\n\n"
                f"{comune.display_name}\n"
            ),
            purpose="temporary_password",
        )
        audit_record(action="password.temporary_issue", obj=account, actor_label="sistema")


def temporary_password_pending(account: Account) -> bool:
    """Whether a save of the family's data would give `account` a temporary password now."""
    return account.created_by_backend == "codice_fiscale" and not account.has_usable_password()


def credentials_letter_claim(*, account: Account) -> bool:
    """True for the one submission that sends the account's lettera credenziali, False for every other.

    `account` as read in the caller's transaction: a claim it shows is final,
    so later submissions make no statement. Otherwise one UPDATE claims it.
    Two parallel first submissions (two forms, two tabs) cannot both: the
    second waits on the row the first updated and, after its commit, finds
    the claim and updates nothing. A submission that rolls back takes its
    claim with it, so the next one sends the letter.
    """
    if account.credentials_letter_at is not None:
        return False
    # The instance is left as read: were the transaction rolled back, it would say claimed.
    claimed = Account.objects.filter(pk=account.pk, credentials_letter_at__isnull=True).update(
        credentials_letter_at=timezone.now()
    )
    return claimed == 1


# The accounts whose temporary password this request issued. Only their caller's session or
# token is kept valid after a save (session_keep_after_save, api.auth.keep_this_device): a
# device whose request only ran beside the one that issued it (a stranger who opened the same
# empty account by its codice fiscale, saving at that moment) ends like every other. Emptied
# when each request starts (IdentityConfig.ready); None outside a request.
_issued_in_request: ContextVar[set[int] | None] = ContextVar("temporary_passwords_issued", default=None)


def temporary_passwords_watch(**_: object) -> None:
    """request_started: this request has issued no temporary password yet."""
    _issued_in_request.set(set())


def temporary_password_issued_here(account: Account) -> bool:
    """Whether this request issued `account`'s temporary password (temporary_password_ensure)."""
    return account.pk in (_issued_in_request.get() or ())


def temporary_password_ensure(*, account: Account) -> bool:
    """Called by every service that saves a family's data: True when it issued the password now.

    A "Sono un nuovo iscritto" account is opened by the codice fiscale alone
    only while it is empty; the first save of any data (draft, riepilogo,
    submission; web or API) gives it a temporary password, mailed to its
    verified address. Accounts of other kinds (credentials, SPID/CIE) are
    left as they are.
    """
    if not account._state.adding and account.created_by_backend != "codice_fiscale":
        return False  # read from the database, and an account's backend never changes: no locked read
    with transaction.atomic(savepoint=False):  # inside a submission's transaction: no savepoint trips
        # The row lock makes two parallel first saves issue one password.
        account = Account.objects.select_for_update().get(pk=account.pk)
        if not temporary_password_pending(account):
            return False
        temporary_password_issue(account=account)
        issued = _issued_in_request.get()
        if issued is not None:
            issued.add(account.pk)
        return True


def session_keep_after_save(*, request: HttpRequest) -> str | None:
    """After a save in this request: keep the session valid if it set a temporary password.

    Returns the masked address the password was mailed to, for the page to
    say so, or None when no password was set in this request.
    """
    user = request.user
    if not isinstance(user, Account) or not temporary_password_issued_here(user):
        return None
    before = request.session.get(HASH_SESSION_KEY)
    user.refresh_from_db()
    if not before or before == user.get_session_auth_hash():
        return None
    update_session_auth_hash(request, user)
    password_change_defer(request)
    return email_mask(user.email)


def _dummy_password_check(password: str) -> None:
    # Same hashing cost whether or not the account exists: the response time
    # does not tell them apart.
    Account().set_password(password)


def credentials_authenticate(*, request: HttpRequest, codice_utente: str, password: str) -> Account:
    """The parent account for this codice utente and password, or AccessError (counted, audited)."""
    identifier = identifier_normalize(codice_utente).upper()
    limit = ratelimit.limit_for(request, scope="credentials", identifier=identifier)
    if not ratelimit.attempt_reserve(limit):
        _login_failure_record(request, backend="credentials", identifier=identifier, reason="bloccato")
        raise AccessError(ratelimit.LOCKED_MESSAGE)
    account = account_for_codice_utente(codice_utente=identifier)
    if account is None:
        _dummy_password_check(password)
    if account is None or not account.check_password(password) or not account.is_active:
        _login_failure_record(request, backend="credentials", identifier=identifier, reason="credenziali")
        if ratelimit.attempt_failed(limit, request=request):
            raise AccessError(ratelimit.LOCKED_MESSAGE)
        raise AccessError(LOGIN_FAILED_MESSAGE)
    ratelimit.attempt_succeeded(limit)
    return account


def codice_fiscale_access(
    *, request: HttpRequest, codice_fiscale: str, password: str
) -> tuple[Account, str | None]:
    """ "Sono un nuovo iscritto": the account of this pupil's codice fiscale, and where to go.

    The codice fiscale alone opens only an empty account: a new one for a
    codice fiscale this comune has never seen, or a re-entry into one that
    holds nothing yet (no verified e-mail, hence no data, and no password).
    As soon as an account holds anything, only its password (or SPID/CIE)
    opens it: the first save of the family's data mails a temporary one
    (`temporary_password_ensure`). A codice fiscale does not prove who is
    typing it: it is printed on school lists and health cards.
    """
    cf = identifier_normalize(codice_fiscale).upper()
    limit = ratelimit.limit_for(request, scope="codice_fiscale", identifier=cf)
    if ratelimit.is_locked(limit):
        _login_failure_record(request, backend="codice_fiscale", identifier=cf, reason="bloccato")
        raise AccessError(ratelimit.LOCKED_MESSAGE)
    if not password:
        with transaction.atomic():
            account = account_for_codice_fiscale_login(codice_fiscale=cf, for_update=True)
            if account is None:
                new_accounts = ratelimit.new_accounts_limit_for(request)
                if ratelimit.is_locked(new_accounts):
                    _login_failure_record(
                        request, backend="codice_fiscale", identifier=cf, reason="troppi nuovi account"
                    )
                    raise AccessError(ratelimit.LOCKED_MESSAGE)
                # Every account created counts towards the IP's bound.
                ratelimit.failure_record(new_accounts, request=request)
                account, created = _parent_create_or_read(
                    username=cf,
                    kind=Account.Kind.PARENT,
                    codice_fiscale=cf,
                    created_by_backend="codice_fiscale",
                )
                if created:
                    audit_record(
                        action="account.create",
                        obj=account,
                        data={"backend": "codice_fiscale"},
                        request=request,
                        actor_label=cf,
                    )
            re_entry_allowed = (
                account.kind == Account.Kind.PARENT
                and account.created_by_backend == "codice_fiscale"
                and account.is_active
                and account.email_verified_at is None
                and not account.has_usable_password()
            )
        if not re_entry_allowed:
            # Counted like a failed login, so probing which pupils have a
            # saved draft is slowed down by the same lockout.
            _login_failure_record(
                request, backend="codice_fiscale", identifier=cf, reason="password mancante"
            )
            ratelimit.failure_record(limit, request=request)
            raise AccessError(CF_PASSWORD_NEEDED_MESSAGE, field="password")
        return account, NEW_ENROLLMENT_URL
    if not ratelimit.attempt_reserve(limit):
        _login_failure_record(request, backend="codice_fiscale", identifier=cf, reason="bloccato")
        raise AccessError(ratelimit.LOCKED_MESSAGE)
    account = account_for_codice_fiscale_login(codice_fiscale=cf)
    if account is None:
        _dummy_password_check(password)
    if (
        account is None
        or account.kind != Account.Kind.PARENT
        or not account.check_password(password)
        or not account.is_active
    ):
        _login_failure_record(request, backend="codice_fiscale", identifier=cf, reason="credenziali")
        if ratelimit.attempt_failed(limit, request=request):
            raise AccessError(ratelimit.LOCKED_MESSAGE)
        raise AccessError(CF_LOGIN_FAILED_MESSAGE)
    ratelimit.attempt_succeeded(limit)
    return account, None


def _login_failure_record(request: HttpRequest, *, backend: str, identifier: str, reason: str) -> None:
    logger.info("login failure backend=%s reason=%s", backend, reason)
    audit_record(
        action="login.failure",
        data={"backend": backend, "reason": reason, "identifier": identifier[:40]},
        request=request,
        actor_label=identifier[:40] or "anonimo",
    )


def password_change(*, request: HttpRequest, account: Account, new_password: str) -> None:
    """Set the parent's own password (already validated by the form); the session stays valid."""
    with transaction.atomic():
        account.set_password(new_password)
        account.must_change_password = False
        account.save(update_fields=["password", "must_change_password"])
        audit_record(action="password.change", actor=account, obj=account, request=request)
    # Only a session signed in as this account is kept valid: a call of the
    # app's API authenticated by token has none, and must not start one.
    if request.session.get(SESSION_KEY) == str(account.pk):
        update_session_auth_hash(request, account)


def logout_complete(*, request: HttpRequest) -> None:
    user = request.user
    if user.is_authenticated:
        audit_record(action="logout", actor=user, obj=user, request=request)
    logout(request)


def password_reset_request(*, request: HttpRequest, identifier: str) -> None:
    """Mail a reset link if `identifier` names a parent account with an address; silent otherwise.

    The caller shows the same answer in every case, so the page does not tell
    whether an account exists. Requests are counted like failures.
    """
    identifier = identifier_normalize(identifier).upper()
    limit = ratelimit.limit_for(request, scope="password_reset", identifier=identifier)
    if ratelimit.is_locked(limit):
        raise AccessError(ratelimit.LOCKED_MESSAGE, field="identifier")
    ratelimit.failure_record(limit, request=request)
    account = account_for_password_reset(identifier=identifier)
    audit_record(
        action="password.reset_request",
        obj=account,
        data={"identifier": identifier[:40], "found": account is not None},
        request=request,
        actor_label=identifier[:40] or "anonimo",
    )
    if account is None:
        return
    comune = comune_current()
    link = request.build_absolute_uri(PASSWORD_RESET_LINK.path(account))
    email_enqueue(
        to=[account.email],
        subject=f"Reimpostazione password - {comune.display_name}",
        body=(
            f"Gentile utente,\n\n"
            f"è stata richiesta una nuova password per l'accesso al Portale Iscrizioni Online del "
            f"{comune.display_name} (codice {account.codice_utente or account.username}).\n"
            f"Per sceglierla aprire questo collegamento entro un'ora:\n\n{link}\n\n"
            f"Se non ha fatto lei la richiesta, ignori questo messaggio: la password attuale "
            f"resta valida.\n\n{comune.display_name}\n"
        ),
        purpose="password_reset",
        valid_for=timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT),
    )


def password_reset_complete(*, request: HttpRequest, account: Account, new_password: str) -> None:
    """Set the password chosen through a valid reset link (the link then stops working)."""
    with transaction.atomic():
        account.set_password(new_password)
        account.must_change_password = False
        account.save(update_fields=["password", "must_change_password"])
        audit_record(action="password.reset", obj=account, request=request, actor_label=str(account))
