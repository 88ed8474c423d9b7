"""Tenants and their API keys.

An API key is ``m6r_<prefix>_<secret>``: the 8-character prefix is stored in clear (visible in
the admin, indexed for lookup) and the whole token only as its SHA-256 digest. The token carries
256 bits of entropy, so a fast hash is enough (no password stretching needed); digests are
compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.db import models
from django.utils import timezone

KEY_PREFIX = "m6r_"
PREFIX_LENGTH = 8
LAST_USED_RESOLUTION = timedelta(seconds=60)


class Scope(models.TextChoices):
    INGEST = "ingest", "ingest"
    RECOMMEND = "recommend", "recommend"
    ADMIN = "admin", "admin"


ALL_SCOPES = tuple(Scope.values)


class UnknownRefs(models.TextChoices):
    """What ingesting an interaction that names an unknown user or item does."""

    CREATE = "create", "create the user/item on the fly"
    REJECT = "reject", "reject the batch"


# Keys of Tenant.config that the platform reads itself (training settings); the rest is the
# domain plugin's configuration, validated by the plugin.
PLATFORM_CONFIG_KEYS = ("training", "train_every_hours", "train_after_new_interactions")


def split_domain_config(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """``config`` without the platform's own keys: what the domain plugin validates and reads."""
    return {k: v for k, v in (config or {}).items() if k not in PLATFORM_CONFIG_KEYS}


class Tenant(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=64, help_text="Name of the domain plugin.")
    config = models.JSONField(
        default=dict, blank=True, help_text="Domain configuration (validated by the plugin)."
    )
    unknown_refs = models.CharField(
        max_length=8,
        choices=UnknownRefs.choices,
        default=UnknownRefs.CREATE,
        help_text="Interactions naming unknown users/items: create them or reject the batch.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    serving_generation = models.BigIntegerField(
        default=0,
        editable=False,
        help_text="Moved by catalogue writes (m6rec.tenants.generation).",
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def domain_config(self) -> dict[str, Any]:
        return split_domain_config(self.config)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def split_token(token: str) -> str | None:
    """The prefix of a well-formed token, else None."""
    if not token.startswith(KEY_PREFIX) or len(token) < len(KEY_PREFIX) + PREFIX_LENGTH + 20:
        return None
    prefix = token[len(KEY_PREFIX) : len(KEY_PREFIX) + PREFIX_LENGTH]
    if token[len(KEY_PREFIX) + PREFIX_LENGTH] != "_":
        return None
    return prefix


def generate_token() -> tuple[str, str]:
    """A fresh ``(token, prefix)``."""
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    return f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


class ApiKey(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=PREFIX_LENGTH, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list, help_text="Any of: ingest, recommend, admin.")
    rate_limit = models.CharField(
        max_length=32,
        blank=True,
        help_text='Per-key request rate such as "600/min"; blank = the default rate.',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.tenant.slug}/{self.name} ({KEY_PREFIX}{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])

    def check_token(self, token: str) -> bool:
        return self.check_digest(hash_token(token))

    def check_digest(self, digest: str) -> bool:
        """Constant-time comparison of a token's SHA-256 hex digest with the stored one."""
        return hmac.compare_digest(self.secret_hash, digest)

    def touch(self) -> None:
        """Record use, writing at most once per LAST_USED_RESOLUTION per key."""
        now = timezone.now()
        if self.last_used_at is None or now - self.last_used_at >= LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=self.pk).filter(
                models.Q(last_used_at__isnull=True)
                | models.Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
            ).update(last_used_at=now)
            self.last_used_at = now
