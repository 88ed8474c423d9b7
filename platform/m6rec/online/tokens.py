"""``recommendation_id``: a signed, self-describing id for one recommendation response.

The id carries everything attribution needs, so serving writes nothing per request: the
tenant, when it was issued, the model version, strategy and surface that served it, the
experiment and arm, the user it was served to (as a 32-bit digest, 0 for anonymous
requests) and a 32-bit digest of each item in list order (the position of an item is the
index of its digest). An HMAC-SHA256 (truncated to 96 bits) under a key derived from
``SECRET_KEY`` seals it: a forged or altered id fails verification, and an id issued to
another tenant verifies but names that tenant, which :func:`decode` reports exactly like a
forgery (no caller can tell "exists elsewhere" from "never existed").

Layout (little-endian, then URL-safe base64 without padding, prefixed ``r1``):
``B version | Q tenant | I issued (epoch s) | I model version (0 = none) | B strategy |
B surface | I experiment (0 = none) | b arm (-1 = none) | I user digest | B n |
n × I item digest | 12-byte MAC``. k = 10 gives a 110-character id, k = 100 a 590-character one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

__all__ = ["MAX_LENGTH", "Issued", "InvalidToken", "decode", "digest", "encode"]

PREFIX = "r1"
FORMAT = 1
MAC_BYTES = 12
MAX_LENGTH = 1024
_HEAD = struct.Struct("<BQIIBBIbIB")
STRATEGIES = ("model", "popularity")
SURFACES = ("user", "session", "similar", "popular")


class InvalidToken(ValueError):
    """Not a recommendation id issued to this tenant (forged, corrupted, truncated, foreign)."""


@dataclass(frozen=True)
class Issued:
    """What a verified recommendation id says about the response that carried it."""

    tenant_id: int
    issued_at: int
    model_version: int | None
    strategy: str
    surface: str
    experiment_id: int | None
    arm: int | None
    user_digest: int
    item_digests: tuple[int, ...]

    def position_of(self, item_id: str) -> int | None:
        """0-based position of ``item_id`` in the response, or None when it was not in it."""
        want = digest(item_id)
        try:
            return self.item_digests.index(want)
        except ValueError:
            return None

    def served_to(self, user_id: str) -> bool:
        """True when the response was for ``user_id`` or for an anonymous request."""
        return self.user_digest == 0 or self.user_digest == digest(user_id)


def digest(value: str) -> int:
    """32-bit digest of an id (never 0, which means "none")."""
    d = int.from_bytes(hashlib.blake2b(value.encode(), digest_size=4).digest(), "little")
    return d or 1


@lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    return hashlib.sha256(b"m6rec.online.recommendation_id\x00" + secret.encode()).digest()


def _mac(payload: bytes) -> bytes:
    return hmac.new(_key(settings.SECRET_KEY), payload, hashlib.sha256).digest()[:MAC_BYTES]


def encode(
    *,
    tenant_id: int,
    item_ids: list[str],
    model_version: int | None,
    strategy: str,
    surface: str,
    experiment_id: int | None = None,
    arm: int | None = None,
    user_id: str | None = None,
    issued_at: int | None = None,
) -> str:
    """The recommendation id of a response listing ``item_ids`` (at most 255)."""
    head = _HEAD.pack(
        FORMAT,
        tenant_id,
        int(time.time()) if issued_at is None else issued_at,
        model_version or 0,
        STRATEGIES.index(strategy),
        SURFACES.index(surface),
        experiment_id or 0,
        -1 if arm is None else arm,
        digest(user_id) if user_id else 0,
        len(item_ids),
    )
    payload = head + struct.pack(f"<{len(item_ids)}I", *(digest(i) for i in item_ids))
    return _text(payload + _mac(payload))


def _text(raw: bytes) -> str:
    return PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode(token: str, *, tenant_id: int) -> Issued:
    """The verified contents of ``token``; :class:`InvalidToken` unless it was issued by this
    deployment to tenant ``tenant_id`` and is intact."""
    if not isinstance(token, str) or not token.startswith(PREFIX) or len(token) > MAX_LENGTH:
        raise InvalidToken
    body = token[len(PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise InvalidToken from None
    if len(raw) < _HEAD.size + MAC_BYTES or _text(raw) != token:  # one spelling per id
        raise InvalidToken
    payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(payload)):
        raise InvalidToken
    fields = _HEAD.unpack_from(payload)
    fmt, tenant, issued, version, strategy, surface, experiment, arm, user, n = fields
    if fmt != FORMAT or len(payload) != _HEAD.size + 4 * n or tenant != tenant_id:
        raise InvalidToken
    if strategy >= len(STRATEGIES) or surface >= len(SURFACES):
        raise InvalidToken
    items = struct.unpack_from(f"<{n}I", payload, _HEAD.size)
    return Issued(
        tenant_id=tenant,
        issued_at=issued,
        model_version=version or None,
        strategy=STRATEGIES[strategy],
        surface=SURFACES[surface],
        experiment_id=experiment or None,
        arm=None if arm < 0 else arm,
        user_digest=user,
        item_digests=tuple(items),
    )
