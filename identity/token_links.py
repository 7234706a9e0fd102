"""One-time links to choose a password: the parents' "Password dimenticata",
the back office's staff invitation and the comune administrator's invitation.

A link is `<prefix>/<uidb64>/<token>/`, the token made by Django's
`default_token_generator`. The token is a hash of the account's password,
last login and e-mail, so it stops working once the password is set (a link
works once), and it expires after PASSWORD_RESET_TIMEOUT. The account is
looked up in the schema of the host the link is opened on, so a link of one
comune means nothing on another comune's host.

As Django's PasswordResetConfirmView does, the first request moves the token
into the session and redirects to the same address with SET_PASSWORD_SEGMENT
in the token's place: the token does not stay in the address bar, the
history, the Referer of the next request or the access logs.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from identity.models import Account

SET_PASSWORD_SEGMENT = "imposta-password"  # noqa: S105 (a URL segment)


def validity_text() -> str:
    """How long a link lasts, in the words of the mails: "1 ora", "3 giorni".

    Read from PASSWORD_RESET_TIMEOUT, so a mail never promises a validity the
    token does not have (an invitation once said "per 0 giorni").
    """
    hours = max(1, settings.PASSWORD_RESET_TIMEOUT // 3600)
    if hours % 24 == 0:
        days = hours // 24
        return "1 giorno" if days == 1 else f"{days} giorni"
    return "1 ora" if hours == 1 else f"{hours} ore"


@dataclass(frozen=True)
class TokenLinkVisit:
    """What a request to a link found: a redirect to the clean address, the account, or neither."""

    redirect: HttpResponseRedirect | None = None
    account: Account | None = None


@dataclass(frozen=True)
class TokenLink:
    """One kind of link: its URL pattern (with `uidb64` and `token`) and the kind of account it opens."""

    url_name: str
    kind: str
    # The URLconf the link lives in, when it is mailed from a request on
    # another host (the operators' console invites a comune's administrator
    # to the comune's own host); None: the current request's.
    urlconf: str | None = None

    @property
    def _session_key(self) -> str:
        return f"_token_link:{self.url_name}"

    def path(self, account: Account) -> str:
        """The link's path for `account`, to be mailed (made absolute by the caller)."""
        return self._path(
            urlsafe_base64_encode(force_bytes(account.pk)), default_token_generator.make_token(account)
        )

    def _path(self, uidb64: str, token: str) -> str:
        return reverse(self.url_name, urlconf=self.urlconf, kwargs={"uidb64": uidb64, "token": token})

    def _account(self, uidb64: str) -> Account | None:
        try:
            pk = int(force_str(urlsafe_base64_decode(uidb64)))
        except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
            return None
        return Account.objects.filter(pk=pk, kind=self.kind, is_active=True).first()

    def open(self, request: HttpRequest, *, uidb64: str, token: str) -> TokenLinkVisit:
        """Follow the link: from the mailed address to the clean one, then the account it opens.

        An empty visit means the link is invalid, expired or already used.
        """
        account = self._account(uidb64)
        if token != SET_PASSWORD_SEGMENT:
            if account is None or not default_token_generator.check_token(account, token):
                return TokenLinkVisit()
            request.session[self._session_key] = {"uidb64": uidb64, "token": token}
            return TokenLinkVisit(redirect=HttpResponseRedirect(self._path(uidb64, SET_PASSWORD_SEGMENT)))
        stashed = request.session.get(self._session_key) or {}
        if (
            account is None
            or stashed.get("uidb64") != uidb64
            or not default_token_generator.check_token(account, stashed.get("token"))
        ):
            return TokenLinkVisit()
        return TokenLinkVisit(account=account)

    def consume(self, request: HttpRequest) -> None:
        """Forget the token once the password is set (the new password already voids it)."""
        request.session.pop(self._session_key, None)


# "Password dimenticata" on a comune's portal (identity.urls).
PASSWORD_RESET_LINK = TokenLink(url_name="password_reset_confirm", kind=Account.Kind.PARENT)
