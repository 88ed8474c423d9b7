"""API v1 URL table: each app contributes its own routes under /api/v1/."""

from django.urls import include, path

urlpatterns = [
    path("", include("m6rec.serving.urls")),  # before catalog: deeper user/item paths
    path("", include("m6rec.catalog.urls")),
    path("models/", include("m6rec.registry.urls")),
    path("models/", include("m6rec.online.urls")),
    path("models/", include("m6rec.batch.urls")),
]
