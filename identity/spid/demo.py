"""What `make run` prints about SPID/CIE: where the demo IdP is and its test identities."""

from __future__ import annotations

from identity.spid.demo_idp.identities import DEMO_IDENTITIES
from identity.spid.registry import demo_idp_enabled
from tenants.selectors import comuni_list


def banner_lines(*, port: int) -> list[str]:
    if not demo_idp_enabled():
        return []
    lines = ["SPID/CIE (IdP dimostrativo, solo sviluppo):"]
    for comune in comuni_list():
        kinds = [k for k in ("spid", "cie") if k in comune.settings.identity.backends]
        if kinds:
            base = f"http://{comune.settings.hosts[0]}:{port}"
            lines.append(f"  {comune.display_name}: 'Entra con SPID' -> 'IdP dimostrativo (solo sviluppo)'")
            lines.append(f"    SPID: {base}/accesso/spid/login/?idp={base}/spid-demo-idp/metadata/")
            lines.append(f"    CIE:  {base}/accesso/cie/login/")
    people = ", ".join(f"{p.name} {p.family_name} ({p.codice_fiscale})" for p in DEMO_IDENTITIES)
    lines += [f"  identità di prova: {people}", ""]
    return lines
