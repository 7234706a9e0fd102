"""Refresh the IdP registry file from AgID's (or the Ministry's) IdP metadata.

    manage.py spid_idps_refresh https://registry.spid.gov.it/metadata/idp/spid-entities-idps.xml
    manage.py spid_idps_refresh /path/to/spid-entities-idps.xml
    manage.py spid_idps_refresh --kind cie /path/to/cie-idp-metadata.xml

The source is a metadata document (EntitiesDescriptor or EntityDescriptor);
its IdPs replace the registry's list for that kind, with their endpoints and
signing certificates.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from identity.spid.registry import idps_from_metadata, registry_read


class Command(BaseCommand):
    help = "Refresh identity/spid/idps/registry.json from IdP metadata at a URL or in a file."

    def add_arguments(self, parser):
        parser.add_argument("source", help="https URL or file path of the IdP metadata")
        parser.add_argument("--kind", choices=("spid", "cie"), default="spid")
        parser.add_argument("--registry", help="registry file to write (default: SPID_IDP_REGISTRY)")

    def handle(self, *args, **options):
        source: str = options["source"]
        try:
            if source.startswith("https://"):
                with urllib.request.urlopen(source, timeout=30) as fh:  # noqa: S310 (https only)
                    xml = fh.read()
            elif "://" in source:
                raise CommandError("only https:// URLs or file paths are accepted")
            else:
                xml = Path(source).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {source}: {exc}") from exc
        try:
            idps = idps_from_metadata(xml)
        except Exception as exc:
            raise CommandError(f"{source}: not IdP metadata: {exc}") from exc
        usable = [i for i in idps if i.certificates and i.sso_url and i.entity_id]
        if not usable:
            raise CommandError(f"{source}: no IdP with entityID, SSO endpoint and signing certificate")
        path = Path(options["registry"] or settings.SPID_IDP_REGISTRY)
        registry = registry_read(path)
        registry[options["kind"]] = [
            {
                "name": idp.name,
                "entity_id": idp.entity_id,
                "sso_url": idp.sso_url,
                "slo_url": idp.slo_url,
                "certificates": list(idp.certificates),
            }
            for idp in sorted(usable, key=lambda i: i.name.lower())
        ]
        path.write_text(json.dumps(registry, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        self.stdout.write(f"{options['kind']}: {len(usable)} IdP written to {path}")
