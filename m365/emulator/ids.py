"""Deterministic identifiers.

Generated directory objects get GUIDs derived from the tenant seed so the same seed always
yields the same ids. `IndexedIds` also makes those ids reversible (id -> index) without a
lookup table, which is what lets a 100,000-user tenant answer `GET /users/{id}` without
holding its users in memory.
"""

from __future__ import annotations

import hashlib
import uuid

_BITS48 = (1 << 48) - 1
# Multiplying by an odd constant is a bijection modulo 2**48: it scatters neighbouring
# indices over the whole 48-bit tail while staying reversible.
_SCATTER = 0x9E3779B97F4B & _BITS48 | 1
_UNSCATTER = pow(_SCATTER, -1, 1 << 48)


def digest(*parts: object, size: int = 16) -> bytes:
    return hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=size).digest()


def guid_from(*parts: object) -> str:
    """A stable version-4-shaped GUID for the given parts."""
    return format_guid(int.from_bytes(digest(*parts), "big"))


def new_guid() -> str:
    return str(uuid.uuid4())


_VERSION_CLEAR = ~(0xF << 76)
_VARIANT_CLEAR = ~(0xC << 60)
_VERSION_4 = 0x4 << 76
_VARIANT_RFC = 0x8 << 60
_BITS128 = (1 << 128) - 1


def format_guid(value: int) -> str:
    """Format 128 bits as a version-4, RFC 4122 variant GUID string."""
    value = (value & _BITS128 & _VERSION_CLEAR & _VARIANT_CLEAR) | _VERSION_4 | _VARIANT_RFC
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class IndexedIds:
    """GUIDs for objects 0..n-1 of one kind in one tenant, reversible to their index.

    The last 48 bits hold the scattered index XOR a per-kind mask; the first 80 bits are a
    hash of the index (callers may pass bytes they already hashed), so ids look random yet
    decode in O(1). `index_of` verifies by re-deriving the id.
    """

    def __init__(self, *namespace: object) -> None:
        self._namespace = namespace
        # digest(*namespace, index) is blake2b of "<namespace parts>:<index>".
        self._prefix = (":".join(map(str, namespace)) + ":").encode()
        self._mask = int.from_bytes(digest(*namespace, "mask", size=6), "big")
        # Callers may hash the index without the whole namespace; this keeps heads distinct
        # between namespaces (e.g. two tenants sharing a seed).
        self._head_mask = int.from_bytes(digest(*namespace, "head", size=10), "big")

    def id_of(self, index: int, head: bytes | None = None) -> str:
        if head is None:
            head = hashlib.blake2b(self._prefix + str(index).encode(), digest_size=10).digest()
        tail = ((index * _SCATTER) & _BITS48) ^ self._mask
        return format_guid(((int.from_bytes(head[:10], "big") ^ self._head_mask) << 48) | tail)

    def index_of(self, object_id: str, head_of=None) -> int | None:
        """The index encoded in `object_id`, or None. `head_of(index)` must return the same
        head bytes `id_of` was given for that index (default: this class's own hash)."""
        try:
            value = uuid.UUID(object_id).int
        except (ValueError, AttributeError, TypeError):
            return None
        index = (((value & _BITS48) ^ self._mask) * _UNSCATTER) & _BITS48
        head = head_of(index) if head_of else None
        if self.id_of(index, head) != str(uuid.UUID(int=value)):
            return None
        return index
