"""``Authorization: Bearer <api key>`` authentication, scope permissions, per-key throttling.

After authentication ``request.user`` is an :class:`ApiClient` and ``request.auth`` the
:class:`~m6rec.tenants.models.ApiKey` (its ``tenant`` already loaded). Views get the tenant
with :func:`request_tenant`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from m6rec.tenants.models import ApiKey, Scope, Tenant, split_token

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiClient:
    """The authenticated principal of an API request (not a Django user)."""

    api_key: ApiKey

    is_authenticated = True
    is_anonymous = False

    @property
    def tenant(self) -> Tenant:
        return self.api_key.tenant

    def __str__(self) -> str:
        return f"api-key:{self.api_key.prefix}"


INVALID_KEY = "The API key is invalid or has been revoked."


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header; expected 'Bearer <api key>'."
            )
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(INVALID_KEY) from None
        prefix = split_token(token)
        if prefix is None:
            raise exceptions.AuthenticationFailed(INVALID_KEY)
        key = ApiKey.objects.select_related("tenant").filter(prefix=prefix).first()
        if key is None or not key.check_token(token) or not key.is_active:
            raise exceptions.AuthenticationFailed(INVALID_KEY)
        if not key.tenant.active:
            raise exceptions.AuthenticationFailed("The tenant of this API key is inactive.")
        key.touch()
        return ApiClient(key), key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


def request_tenant(request) -> Tenant:
    return request.auth.tenant


class MissingScope(exceptions.PermissionDenied):
    default_code = "missing_scope"


class ScopePermission(BasePermission):
    """Subclasses set ``scope``; a key without it gets 403 ``missing_scope``."""

    scope: str = ""

    def has_permission(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            raise exceptions.NotAuthenticated()
        if not key.has_scope(self.scope):
            exc = MissingScope(f'This API key lacks the "{self.scope}" scope.')
            exc.extra_details = {"required_scope": self.scope}
            raise exc
        return True


class HasIngestScope(ScopePermission):
    scope = Scope.INGEST


class HasRecommendScope(ScopePermission):
    scope = Scope.RECOMMEND


class HasAdminScope(ScopePermission):
    scope = Scope.ADMIN


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Per-key request rate: ``ApiKey.rate_limit`` or ``DEFAULT_THROTTLE_RATES["api_key"]``.

    Uses the cache alias ``M6REC_THROTTLE_CACHE`` (default ``"default"``: Redis in production and
    tests, local memory in the quick start). Fails open (logs) when the cache is unreachable,
    so a cache outage degrades throttling instead of the whole API.
    """

    scope = "api_key"

    def __init__(self):  # the rate depends on the key: resolved in allow_request
        pass

    @property
    def cache(self):
        return caches[getattr(settings, "M6REC_THROTTLE_CACHE", "default")]

    def get_cache_key(self, request, view):
        key = request.auth
        if not isinstance(key, ApiKey):
            return None
        return f"throttle:apikey:{key.pk}"

    def allow_request(self, request, view):
        key = request.auth
        if not isinstance(key, ApiKey):
            return True
        self.rate = key.rate_limit or self.get_rate()
        if not self.rate:
            return True
        try:
            self.num_requests, self.duration = self.parse_rate(self.rate)
        except (ValueError, KeyError):
            logger.warning("API key %s has an invalid rate_limit %r", key.prefix, self.rate)
            self.num_requests, self.duration = self.parse_rate(self.get_rate())
        try:
            return super().allow_request(request, view)
        except Exception:  # noqa: BLE001 - cache down: fail open
            logger.warning("Throttle cache unavailable; request not throttled", exc_info=True)
            return True
