"""Evolvable enum members: values past `unknownFutureValue` in Graph's metadata.

Graph sends them only to callers that send `Prefer: include-unknown-enum-members`; everyone
else reads `unknownFutureValue` (reference section 1, enum table).
"""

from __future__ import annotations

_EVOLVABLE = {
    "protectionPolicyStatus": frozenset({"offboardRequested", "offboarded"}),
    "protectionUnitStatus": frozenset(
        {"offboardRequested", "offboarded", "cancelOffboardRequested"}
    ),
    "protectionRuleStatus": frozenset({"updateRequested", "deleteRequested"}),
    "restoreSessionStatus": frozenset({"failed"}),
    "disableReason": frozenset({"controllerServiceAppDeleted"}),
}


def shown(enum: str, value: str | None, include_unknown: bool) -> str | None:
    if value is None or include_unknown or value not in _EVOLVABLE.get(enum, ()):
        return value
    return "unknownFutureValue"
