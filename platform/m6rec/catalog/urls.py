"""Catalog API routes (included under /api/v1/). Ids never contain "/"."""

from django.urls import path

from m6rec.catalog import apis

app_name = "catalog"

urlpatterns = [
    path("items", apis.ItemListApi.as_view(), name="items"),
    path("items/<str:item_id>", apis.ItemDetailApi.as_view(), name="item-detail"),
    path("users", apis.UserListApi.as_view(), name="users"),
    path("users/<str:user_id>", apis.UserDetailApi.as_view(), name="user-detail"),
    path("interactions", apis.InteractionIngestApi.as_view(), name="interactions"),
]
