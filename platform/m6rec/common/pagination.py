"""Cursor pagination for the API lists (stable under concurrent inserts)."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Pages ordered by primary key: ``?cursor=<opaque>&limit=1..1000`` (default 100)."""

    ordering = "id"
    page_size = 100
    max_page_size = 1000
    page_size_query_param = "limit"

    def decode_cursor(self, request):
        from rest_framework.exceptions import NotFound

        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = False
        if cursor is False or (
            cursor is not None and cursor.position is not None and not cursor.position.isdigit()
        ):
            raise ValidationError({"cursor": ["Invalid cursor."]})
        return cursor

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if not 1 <= value <= self.max_page_size:
            raise ValidationError(
                {"limit": [f"Must be an integer between 1 and {self.max_page_size}."]}
            )
        return value
