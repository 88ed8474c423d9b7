"""Root URLs: admin, API v1, OpenAPI schema and Swagger UI."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("", include("m6rec.ops.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("m6rec.api_v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

# A database outage raised outside a view (e.g. in a middleware) is a 503, not a 500.
handler500 = "m6rec.ops.outage.server_error"
