"""Content negotiation with a fast path for the common JSON API request.

DRF's negotiation parses the ``Accept`` header into media types on every request. For a request
without ``Accept``, with ``*/*`` or with exactly ``application/json`` (and no ``?format=`` /
format suffix) the answer is always the first renderer whose media type matches: this returns
the same ``(renderer, media type)`` DRF would, without the parsing. Everything else goes
through DRF unchanged.
"""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation

_FAST_ACCEPT = frozenset({None, "*/*", "application/json"})


class FastJsonNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT")
        if (
            accept in _FAST_ACCEPT
            and not format_suffix
            and renderers
            and renderers[0].media_type == "application/json"
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
