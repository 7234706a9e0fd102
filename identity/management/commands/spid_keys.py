"""Generate each comune's SPID/CIE signing key and certificate (idempotent).

Keys go to SPID_KEYS_DIR/<schema>/ (outside the repository). Existing keys
are kept unless --force. A comune that enables SPID or CIE without the data
AgID requires (ipa_code) stops the command with a message naming the field.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from identity.spid.keys import keys_dir, sp_keys_ensure
from identity.spid.sp import CIE, SPID
from tenants.selectors import comuni_list


class Command(BaseCommand):
    help = "Generate missing SPID/CIE keys and AgID-profile certificates for every comune that uses them."

    def add_arguments(self, parser):
        parser.add_argument("--comune", help="only this comune (slug)")
        parser.add_argument("--force", action="store_true", help="replace existing keys (rotation)")

    def handle(self, *args, **options):
        comuni = [c for c in comuni_list() if not options["comune"] or c.slug == options["comune"]]
        if options["comune"] and not comuni:
            raise CommandError(f"no comune with slug {options['comune']!r}")
        for comune in comuni:
            cfg = comune.settings
            kinds = [k for k in (SPID, CIE) if k in cfg.identity.backends]
            if not kinds:
                continue
            if not cfg.ipa_code:
                raise CommandError(
                    f"{comune.slug}.yaml: ipa_code: required to enable {'/'.join(k.upper() for k in kinds)} "
                    "(the comune's code in the Indice PA, e.g. c_h509; it goes into the certificate "
                    "as organizationIdentifier PA:IT-<ipa_code> and into the metadata)"
                )
            base = settings.COMUNE_URL_TEMPLATE.format(host=cfg.hosts[0])
            for kind in kinds:
                created = sp_keys_ensure(
                    schema_name=comune.schema_name,
                    kind=kind,
                    display_name=comune.display_name,
                    locality=comune.name,
                    ipa_code=cfg.ipa_code,
                    entity_id=f"{base}/accesso/{kind}/metadata/",
                    force=options["force"],
                )
                state = "created" if created else "present"
                self.stdout.write(f"{comune.slug} {kind}: {state} in {keys_dir(comune.schema_name)}")
