"""Cursor pagination for the API lists (stable under concurrent inserts)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

_MAX_POSITION_DIGITS = 19  # positions are bigint primary keys


def limit_from(request, *, default: int, maximum: int, param: str = "limit") -> int:
    """``?limit=`` as an integer in 1..``maximum`` (``default`` when absent); anything else is a
    400 ``invalid`` on the parameter. Every list that takes ``limit`` reads it here."""
    raw = request.query_params.get(param)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= maximum:
        raise ValidationError({param: [f"Must be an integer between 1 and {maximum}."]})
    return value


class IdCursorPagination(CursorPagination):
    """Pages ordered by primary key: ``?cursor=<opaque>&limit=1..1000`` (default 100); no other
    query parameter."""

    ordering = "id"
    page_size = 100
    max_page_size = 1000
    page_size_query_param = "limit"
    allowed_params = frozenset({"cursor", "limit"})

    def paginate_queryset(self, queryset, request, view=None):
        """Every list takes ``cursor`` and ``limit`` only: any other query parameter is a 400
        naming it (a typo such as ``?limt=5`` is refused instead of silently ignored)."""
        reject_unknown_params(request, self.allowed_params)
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        """The cursor of ``?cursor=``; 400 ``invalid`` (field ``cursor``) for any value that is not
        exactly a cursor this class writes into ``next``/``previous`` links.

        DRF's own decoding skips characters outside the base64 alphabet and ignores unknown
        tokens, so ``cursor=%00``, ``cursor=!!`` or ``cursor=`` decoded to "the first page"
        while ``cursor=garbage`` was refused. Re-encoding the decoded cursor and comparing makes
        every malformed value the same 400.
        """
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = None
        if cursor is None or not self._is_canonical(cursor, encoded):
            raise ValidationError({"cursor": ["Invalid cursor."]})
        return cursor

    def _is_canonical(self, cursor, encoded: str) -> bool:
        position = cursor.position
        if position is None or not (
            position.isascii()
            and position.isdigit()
            and len(position) <= _MAX_POSITION_DIGITS
            and str(int(position)) == position
        ):
            return False  # every cursor written for an id-ordered list carries a position
        written = parse_qs(urlsplit(self.encode_cursor(cursor)).query, keep_blank_values=True)
        return written.get(self.cursor_query_param, [None])[-1] == encoded

    def get_page_size(self, request):
        return limit_from(
            request,
            default=self.page_size,
            maximum=self.max_page_size,
            param=self.page_size_query_param,
        )


def reject_unknown_params(request, allowed: frozenset[str] | set[str]) -> None:
    """400 ``invalid`` naming every query parameter outside ``allowed`` (a typo such as
    ``?limt=5`` is refused instead of silently ignored)."""
    unknown = sorted(set(request.query_params) - set(allowed))
    if unknown:
        raise ValidationError(
            {
                name[:100]: [f"Unknown query parameter; allowed: {', '.join(sorted(allowed))}."]
                for name in unknown
            }
        )


class NewestFirstPagination(IdCursorPagination):
    """Cursor pages of the newest rows first (``ordering``: a unique descending integer)."""

    ordering = "-id"


class RunPagination(NewestFirstPagination):
    """``GET models/runs``: newest run first, 1..100 per page (default 20)."""

    page_size = 20
    max_page_size = 100


class VersionPagination(NewestFirstPagination):
    """``GET models/versions``: highest version number first, 1..500 per page (default 100)."""

    ordering = "-number"
    page_size = 100
    max_page_size = 500
