"""Chargebee's wire format: form-encoded bodies and the optional request headers."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.chargebee_api.validation import check_header_value, check_id

EVENT_SKIP_HEADERS: Mapping[str, str] = {
    "actions": "chargebee-event-actions",
    "webhook": "chargebee-event-webhook",
    "email": "chargebee-event-email",
}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def encode_form(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Flatten parameters the way Chargebee reads them.

    ``{"card": {"first_name": "Ann"}}`` becomes ``card[first_name]=Ann``; a list of
    sub-objects is indexed per field: ``notes_to_remove[entity_type][0]=...``. None
    values are left out rather than sent empty.
    """
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            pairs.extend(
                (f"{name}[{key}]", _scalar(sub)) for key, sub in value.items() if sub is not None
            )
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    pairs.extend(
                        (f"{name}[{key}][{index}]", _scalar(sub))
                        for key, sub in item.items()
                        if sub is not None
                    )
                elif item is not None:
                    pairs.append((f"{name}[{index}]", _scalar(item)))
        else:
            pairs.append((name, _scalar(value)))
    return pairs


def normalise_skip_events(value: object) -> frozenset[str]:
    """Accept ``"webhook"``, ``"webhook,email"``, a list or a set; refuse anything unknown."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        items: Iterable[object] = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, list | tuple | set | frozenset):
        items = value
    else:
        raise ChargebeeValidationError(
            "skip_events",
            f"must be one of {sorted(EVENT_SKIP_HEADERS)} or a list of them, "
            f"got {type(value).__name__}",
        )
    chosen = set()
    for item in items:
        if not isinstance(item, str) or item not in EVENT_SKIP_HEADERS:
            raise ChargebeeValidationError(
                "skip_events", f"{item!r} is not one of {sorted(EVENT_SKIP_HEADERS)}"
            )
        chosen.add(str(item))
    return frozenset(chosen)


@dataclass(frozen=True)
class RequestOrigin:
    """Optional headers describing who asked for the request and what it may trigger."""

    origin_user: str | None = None
    origin_ip: str | None = None
    origin_device: str | None = None
    business_entity_id: str | None = None
    skip_events: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.origin_user is not None:
            check_header_value("origin_user", self.origin_user)
            if "@" not in self.origin_user:
                raise ChargebeeValidationError(
                    "origin_user", f"{self.origin_user!r} is not an email address"
                )
        if self.origin_ip is not None:
            check_header_value("origin_ip", self.origin_ip, ascii_only=True)
        if self.origin_device is not None:
            check_header_value("origin_device", self.origin_device, ascii_only=True)
        if self.business_entity_id is not None:
            check_id("business_entity_id", self.business_entity_id)
        object.__setattr__(self, "skip_events", normalise_skip_events(self.skip_events))

    def merged(self, override: RequestOrigin) -> RequestOrigin:
        """Values set on ``override`` win; skip_events are combined."""
        return RequestOrigin(
            origin_user=override.origin_user or self.origin_user,
            origin_ip=override.origin_ip or self.origin_ip,
            origin_device=override.origin_device or self.origin_device,
            business_entity_id=override.business_entity_id or self.business_entity_id,
            skip_events=self.skip_events | override.skip_events,
        )

    def headers(self, *, api_version: str = "v2", for_write: bool = True) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.origin_user is not None:
            if self.origin_user.isascii():
                headers["chargebee-request-origin-user"] = self.origin_user
            else:
                encoded = base64.b64encode(self.origin_user.encode("utf-8")).decode("ascii")
                headers["chargebee-request-origin-user-encoded"] = encoded
        if self.origin_ip is not None:
            headers["chargebee-request-origin-ip"] = self.origin_ip
        if self.origin_device is not None:
            headers["chargebee-request-origin-device"] = self.origin_device
        if self.business_entity_id is not None and api_version == "v2":
            headers["chargebee-business-entity-id"] = self.business_entity_id
        if for_write:
            for name in sorted(self.skip_events):
                headers[EVENT_SKIP_HEADERS[name]] = "all-disabled"
        return headers
