"""Base API views shared by the apps (kept out of ``auth``: DRF's settings import that module,
and ``rest_framework.views`` imports DRF's settings)."""

from __future__ import annotations

from rest_framework.views import APIView

from m6rec.common.auth import HasAdminScope

__all__ = ["AdminApi"]


class AdminApi(APIView):
    """Base of the views that need the ``admin`` scope."""

    permission_classes = [HasAdminScope]
