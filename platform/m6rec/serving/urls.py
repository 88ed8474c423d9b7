"""Serving routes under /api/v1/ (deeper than the catalogue's /users/{id} and /items/{id})."""

from django.urls import path

from m6rec.serving import apis

urlpatterns = [
    path(
        "users/<str:user_id>/recommendations",
        apis.UserRecommendationsApi.as_view(),
        name="user-recommendations",
    ),
    path(
        "recommendations",
        apis.SessionRecommendationsApi.as_view(),
        name="session-recommendations",
    ),
    path("items/<str:item_id>/similar", apis.SimilarItemsApi.as_view(), name="similar-items"),
    path("popular", apis.PopularApi.as_view(), name="popular-items"),
]
