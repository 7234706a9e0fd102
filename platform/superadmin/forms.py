"""Forms of the operators' console. Config text goes through the same
validator as `sync_tenants` (tenants.config.config_parse)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import SetPasswordForm

from tenants.config import ComuneConfig, ConfigError, config_parse

YAML_ROWS = 24


def config_problem_lines(exc: ConfigError) -> list[str]:
    """'file.yaml: services.0: message' → 'services.0: message' (the field path stays)."""
    return [p.split(": ", 1)[1] if ": " in p else p for p in exc.problems]


class _ConfigTextMixin(forms.Form):
    config: ComuneConfig | None = None

    def parse_config(self, text: str, *, source: str, field: str) -> None:
        try:
            self.config = config_parse(text, source=source)
        except ConfigError as exc:
            for line in config_problem_lines(exc):
                self.add_error(field, line)

    @property
    def parsed_config(self) -> ComuneConfig:
        """The config of a valid form: `clean()` adds an error whenever it cannot parse one."""
        if self.config is None:
            raise ValueError("parsed_config of a form without a valid configuration")
        return self.config

    def add_config_error(self, exc: ConfigError, field: str) -> None:
        for line in config_problem_lines(exc):
            self.add_error(field, line)


class OnboardForm(_ConfigTextMixin):
    yaml_text = forms.CharField(
        label="Configurazione (YAML)",
        required=False,
        widget=forms.Textarea(attrs={"rows": YAML_ROWS, "spellcheck": "false", "class": "vLargeTextField"}),
        help_text=(
            "Incolla il file del comune (stesso formato di tenant_configs/<slug>.yaml), "
            "oppure caricalo qui sotto."
        ),
    )
    yaml_file = forms.FileField(
        label="File di configurazione (.yaml)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".yaml,.yml,text/yaml"}),
    )
    admin_email = forms.EmailField(
        label="E-mail dell'amministratore del comune",
        help_text="Riceve l'invito con il collegamento per scegliere la password.",
        error_messages={"required": "Inserisci l'e-mail dell'amministratore del comune."},
    )
    admin_first_name = forms.CharField(label="Nome dell'amministratore", max_length=150, required=False)
    admin_last_name = forms.CharField(label="Cognome dell'amministratore", max_length=150, required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        text = data.get("yaml_text", "")
        upload = data.get("yaml_file")
        if text and upload:
            self.add_error("yaml_text", "Incolla la configurazione oppure carica un file, non entrambi.")
        elif upload:
            try:
                content = upload.read(256 * 1024).decode("utf-8")
            except UnicodeDecodeError:
                self.add_error("yaml_file", "Il file non è un testo UTF-8.")
            else:
                self.parse_config(content, source=upload.name, field="yaml_file")
        elif text:
            self.parse_config(text, source="configurazione", field="yaml_text")
        else:
            self.add_error("yaml_text", "Incolla la configurazione del comune oppure carica il file .yaml.")
        return data

    @property
    def config_field(self) -> str:
        return "yaml_file" if self.cleaned_data.get("yaml_file") else "yaml_text"


class ConfigEditForm(_ConfigTextMixin):
    yaml_text = forms.CharField(
        label="Configurazione (YAML)",
        widget=forms.Textarea(
            attrs={"rows": YAML_ROWS + 16, "spellcheck": "false", "class": "vLargeTextField"}
        ),
        error_messages={"required": "La configurazione non può essere vuota."},
    )

    def __init__(self, *args: Any, slug: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slug = slug

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("yaml_text"):
            self.parse_config(data["yaml_text"], source=f"{self.slug}.yaml", field="yaml_text")
        return data


class SuspendForm(forms.Form):
    reason = forms.CharField(
        label="Motivo della sospensione",
        max_length=300,
        help_text="Resta nel registro di audit.",
        error_messages={"required": "Scrivi il motivo della sospensione."},
    )


class HostForm(forms.Form):
    host = forms.CharField(
        label="Nuovo host",
        max_length=253,
        help_text="Per esempio esempio.<dominio base>, oppure un dominio consentito in EXTRA_TENANT_DOMAINS.",
        error_messages={"required": "Scrivi il nome host da aggiungere."},
    )


class OffboardForm(forms.Form):
    confirmation = forms.CharField(
        label="Per confermare scrivi lo slug del comune",
        max_length=63,
        strip=False,
        error_messages={"required": "Scrivi lo slug del comune per confermare la dismissione."},
    )

    def __init__(self, *args: Any, slug: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slug = slug

    def clean_confirmation(self) -> str:
        value = self.cleaned_data["confirmation"]
        if value != self.slug:
            raise forms.ValidationError(f"Il testo non coincide: scrivi esattamente «{self.slug}».")
        return value


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label="Codice di verifica (6 cifre)",
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        error_messages={"required": "Inserisci il codice mostrato dall'app di autenticazione."},
    )


class InvitationPasswordForm(SetPasswordForm):
    """Django's set-password form (password validators included), Italian labels."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "Nuova password"
        self.fields["new_password2"].label = "Conferma nuova password"
