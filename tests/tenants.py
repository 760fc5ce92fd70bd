"""An organization as a test sees it: its id and the API key that acts for it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Tenant:
    organization_id: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"xi-api-key": self.api_key}
