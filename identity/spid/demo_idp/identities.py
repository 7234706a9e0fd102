"""Test identities of the demo IdP (fictitious people; valid codici fiscali)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoIdentity:
    key: str
    name: str
    family_name: str
    codice_fiscale: str
    email: str
    date_of_birth: str

    @property
    def attributes(self) -> dict[str, str]:
        return {
            "fiscalNumber": f"TINIT-{self.codice_fiscale}",
            "name": self.name,
            "familyName": self.family_name,
            "email": self.email,
            "dateOfBirth": self.date_of_birth,
        }


DEMO_IDENTITIES = (
    DemoIdentity("mario", "Mario", "Rossi", "RSSMRA80A01H501U", "mario.rossi@example.it", "1980-01-01"),
    DemoIdentity("laura", "Laura", "Bianchi", "BNCLRA85M41A794O", "laura.bianchi@example.it", "1985-08-01"),
    DemoIdentity(
        "giuseppe", "Giuseppe", "Verdi", "VRDGPP75C15F205S", "giuseppe.verdi@example.it", "1975-03-15"
    ),
    DemoIdentity("anna", "Anna", "Colombo", "CLMNNA82T55H509F", "anna.colombo@example.it", "1982-12-15"),
)


def demo_identity(key: str) -> DemoIdentity | None:
    return next((i for i in DEMO_IDENTITIES if i.key == key), None)
