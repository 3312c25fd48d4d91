"""Why an access happens: agency, offense type and legal basis. One definition for both sides.

A ``Purpose`` travels in access tokens (claim ``pur``) and in ``access_request`` messages
(``IncidentInfo.purpose``); the free-text reason travels next to it (token claim ``why``,
``IncidentInfo.reason``). Every field is optional with an empty default so that tokens and
messages of peers older than this definition still parse: an empty field means "not stated",
and the resident's rules treat "not stated" like any value that does not match (a rule
"only these agencies" refuses a token that names no agency, "warrant required" refuses a
token without a stated warrant).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LEGAL_BASES = ("consent", "exigent", "warrant")
# Offense-type groups (NIBRS: crimes against persons, property, society; "other" for group
# B offenses and non-criminal calls such as a missing person). Residents rule on these.
OFFENSE_GROUPS = ("person", "property", "society", "other")
# ORI-style agency id: two letters (state) and seven letters or digits, e.g. "NC0920100".
AGENCY_ID_RE = re.compile(r"^[A-Z]{2}[A-Z0-9]{7}$")
OFFENSE_CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
MAX_NAME = 128
MAX_REF = 128
MAX_REASON = 2000
_CLAIM_KEYS = frozenset(
    {
        "agency_name",
        "agency_id",
        "offense_code",
        "offense_group",
        "legal_basis",
        "warrant_ref",
        "warrant_court",
    }
)


def _printable(value: str, limit: int, name: str) -> None:
    if len(value) > limit:
        raise ValueError(f"{name}: at most {limit} characters")
    if any(not ch.isprintable() for ch in value):
        raise ValueError(f"{name}: control characters")


@dataclass(frozen=True, slots=True)
class Purpose:
    """Agency, offense type and legal basis of an access. Empty = not stated (old peers)."""

    agency_name: str = ""
    agency_id: str = ""
    offense_code: str = ""
    offense_group: str = ""
    legal_basis: str = ""
    warrant_ref: str = ""
    warrant_court: str = ""

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field."""
        for name in _CLAIM_KEYS:
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name}: expected a string")
        _printable(self.agency_name, MAX_NAME, "agency_name")
        if self.agency_id and not AGENCY_ID_RE.match(self.agency_id):
            raise ValueError("agency_id: ORI-style, two letters and seven letters or digits")
        if self.offense_code and not OFFENSE_CODE_RE.match(self.offense_code):
            raise ValueError("offense_code: 1..32 of letters, digits, _ . -")
        if self.offense_group and self.offense_group not in OFFENSE_GROUPS:
            raise ValueError(f"offense_group: one of {OFFENSE_GROUPS}")
        if self.legal_basis and self.legal_basis not in LEGAL_BASES:
            raise ValueError(f"legal_basis: one of {LEGAL_BASES}")
        _printable(self.warrant_ref, MAX_REF, "warrant_ref")
        _printable(self.warrant_court, MAX_REF, "warrant_court")
        if self.legal_basis == "warrant":
            if not self.warrant_ref.strip() or not self.warrant_court.strip():
                raise ValueError("a warrant needs warrant_ref and warrant_court")
        elif self.warrant_ref or self.warrant_court:
            raise ValueError("warrant_ref and warrant_court only with legal_basis warrant")

    @property
    def stated(self) -> bool:
        return any(getattr(self, name) for name in _CLAIM_KEYS)

    @property
    def has_warrant(self) -> bool:
        return self.legal_basis == "warrant" and bool(self.warrant_ref)

    def detail(self) -> dict[str, str]:
        """Every field (empty = not stated), for audit log entries and the history view."""
        return {name: getattr(self, name) for name in sorted(_CLAIM_KEYS)}

    def describe(self) -> str:
        """One human line for notifications: agency, offense type and legal basis."""
        agency = self.agency_name or "agency not stated"
        if self.agency_id:
            agency += f" ({self.agency_id})"
        offense = self.offense_code or "not stated"
        if self.offense_group:
            offense += f", {self.offense_group}"
        if self.legal_basis == "warrant":
            basis = f"warrant {self.warrant_ref} ({self.warrant_court})"
        else:
            basis = self.legal_basis or "not stated"
        return f"Agency: {agency}. Offense type: {offense}. Legal basis: {basis}."

    def to_claim(self) -> dict[str, str]:
        """The token claim ``pur``: only the stated fields."""
        return {name: getattr(self, name) for name in sorted(_CLAIM_KEYS) if getattr(self, name)}

    @classmethod
    def from_claim(cls, value: Any) -> Purpose:
        """Parse and validate a ``pur`` claim; raises ``ValueError``."""
        if not isinstance(value, dict):
            raise ValueError("pur: expected an object")
        unknown = set(value) - _CLAIM_KEYS
        if unknown:
            raise ValueError(f"pur: unknown field {sorted(unknown)[0]}")
        if not all(isinstance(v, str) for v in value.values()):
            raise ValueError("pur: values are strings")
        purpose = cls(**value)
        purpose.validate()
        return purpose

    @classmethod
    def from_detail(cls, data: Mapping[str, Any]) -> Purpose:
        """Rebuild from ``detail()`` fields (bus events, audit entries) for display only.

        Lenient on purpose: recorded events outlive this code, so unknown keys and
        non-string values are ignored instead of raising.
        """
        return cls(**{k: v for k in _CLAIM_KEYS if isinstance(v := data.get(k), str)})


def validate_reason(reason: str) -> None:
    """The free-text reason as carried in tokens (the hub also sets a minimum length)."""
    if not isinstance(reason, str):
        raise ValueError("reason: expected a string")
    if len(reason) > MAX_REASON:
        raise ValueError(f"reason: at most {MAX_REASON} characters")
