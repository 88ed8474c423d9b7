"""Catalog API v1 (scope ``ingest``): thin views over services and selectors."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from m6rec.catalog import selectors, services
from m6rec.catalog.serializers import (
    InteractionsIngestInputSerializer,
    InteractionsIngestOutputSerializer,
    ItemOutputSerializer,
    ItemsUpsertInputSerializer,
    UpsertOutputSerializer,
    UserOutputSerializer,
    UsersUpsertInputSerializer,
)
from m6rec.common.auth import HasIngestScope, request_tenant
from m6rec.common.errors import quoted
from m6rec.common.pagination import IdCursorPagination
from m6rec.common.schema import cursor_page, error_responses, list_params, ok, path_id_param
from m6rec.common.validation import clean_path_id

WRITE_ERRORS = error_responses(400, 401, 403, 413, 415, 429)
READ_ERRORS = error_responses(400, 401, 403, 404, 429)
LIST_ERRORS = error_responses(400, 401, 403, 429)
LIST_PARAMS = list_params(IdCursorPagination)
UPSERTED = "Rows created and updated (all rows valid, all written in one transaction)."
ITEMS_EXAMPLE = OpenApiExample(
    "Two items",
    value={
        "items": [
            {"item_id": "sku-1", "categories": ["shoes"], "properties": {"price": 59.0}},
            {"item_id": "sku-2", "categories": ["socks"], "active": False},
        ]
    },
    request_only=True,
)
USERS_EXAMPLE = OpenApiExample(
    "Two users", value={"users": [{"user_id": "u1"}, {"user_id": "u2"}]}, request_only=True
)
INTERACTIONS_EXAMPLE = OpenApiExample(
    "Both timestamp forms",
    value={
        "interactions": [
            {
                "user_id": "u1",
                "item_id": "sku-1",
                "type": "view",
                "timestamp": "2024-05-01T12:30:00Z",
                "event_id": "ev-1",
            },
            {"user_id": "u1", "item_id": "sku-2", "timestamp": 1714566600, "event_id": "ev-2"},
        ]
    },
    request_only=True,
)


class IngestApi(APIView):
    permission_classes = [HasIngestScope]


def _not_found(what: str, external_id: str) -> NotFound:
    # Identical for "missing" and "belongs to another tenant".
    return NotFound(f"{what} {quoted(external_id)} not found.")


class ItemListApi(IngestApi):
    @extend_schema(
        operation_id="items_list",
        tags=["items"],
        summary="List items",
        description="The tenant's items in insertion order, as cursor pages: follow `next` "
        "until it is null.",
        parameters=LIST_PARAMS,
        responses={
            200: ok(cursor_page(ItemOutputSerializer, "PaginatedItems"), "A page of items."),
            **LIST_ERRORS,
        },
    )
    def get(self, request):
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(
            selectors.item_list(tenant=request_tenant(request)), request, view=self
        )
        return paginator.get_paginated_response(ItemOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="items_upsert",
        tags=["items"],
        summary="Upsert items",
        description="Create or update 1..10,000 items by `item_id`. Every row is validated "
        "(ids, categories, the domain's property schema) before anything is written: one "
        "invalid row rejects the whole batch, every problem listed by row and field.",
        examples=[ITEMS_EXAMPLE],
        request=ItemsUpsertInputSerializer,
        responses={200: ok(UpsertOutputSerializer, UPSERTED), **WRITE_ERRORS},
    )
    def post(self, request):
        tenant = request_tenant(request)
        serializer = ItemsUpsertInputSerializer(data=request.data, context={"tenant": tenant})
        serializer.is_valid(raise_exception=True)
        result = services.items_upsert(tenant=tenant, rows=serializer.validated_data["items"])
        return Response(UpsertOutputSerializer(result).data)


class ItemDetailApi(IngestApi):
    @extend_schema(
        operation_id="items_retrieve",
        tags=["items"],
        summary="Get an item",
        description="One item by the tenant's own id.",
        parameters=[path_id_param("item_id")],
        responses={200: ok(ItemOutputSerializer, "The item."), **READ_ERRORS},
    )
    def get(self, request, item_id: str):
        item_id = clean_path_id(item_id, param="item_id")
        item = selectors.item_get(tenant=request_tenant(request), item_id=item_id)
        if item is None:
            raise _not_found("Item", item_id)
        return Response(ItemOutputSerializer(item).data)

    @extend_schema(
        operation_id="items_destroy",
        tags=["items"],
        summary="Delete an item",
        description="Deletes the item and the interactions with it.",
        parameters=[path_id_param("item_id")],
        responses={204: ok(description="Deleted."), **READ_ERRORS},
    )
    def delete(self, request, item_id: str):
        item_id = clean_path_id(item_id, param="item_id")
        try:
            services.item_delete(tenant=request_tenant(request), item_id=item_id)
        except services.NotFoundError:
            raise _not_found("Item", item_id) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserListApi(IngestApi):
    @extend_schema(
        operation_id="users_list",
        tags=["users"],
        summary="List users",
        description="The tenant's end users in insertion order, as cursor pages: follow "
        "`next` until it is null.",
        parameters=LIST_PARAMS,
        responses={
            200: ok(cursor_page(UserOutputSerializer, "PaginatedUsers"), "A page of users."),
            **LIST_ERRORS,
        },
    )
    def get(self, request):
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(
            selectors.user_list(tenant=request_tenant(request)), request, view=self
        )
        return paginator.get_paginated_response(UserOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="users_upsert",
        tags=["users"],
        summary="Upsert users",
        description="Create or update 1..10,000 end users by `user_id`; one invalid row "
        "rejects the whole batch, every problem listed by row and field.",
        examples=[USERS_EXAMPLE],
        request=UsersUpsertInputSerializer,
        responses={200: ok(UpsertOutputSerializer, UPSERTED), **WRITE_ERRORS},
    )
    def post(self, request):
        tenant = request_tenant(request)
        serializer = UsersUpsertInputSerializer(data=request.data, context={"tenant": tenant})
        serializer.is_valid(raise_exception=True)
        result = services.users_upsert(tenant=tenant, rows=serializer.validated_data["users"])
        return Response(UpsertOutputSerializer(result).data)


class UserDetailApi(IngestApi):
    @extend_schema(
        operation_id="users_retrieve",
        tags=["users"],
        summary="Get a user",
        description="One end user by the tenant's own id.",
        parameters=[path_id_param("user_id")],
        responses={200: ok(UserOutputSerializer, "The user."), **READ_ERRORS},
    )
    def get(self, request, user_id: str):
        user_id = clean_path_id(user_id, param="user_id")
        user = selectors.user_get(tenant=request_tenant(request), user_id=user_id)
        if user is None:
            raise _not_found("User", user_id)
        return Response(UserOutputSerializer(user).data)

    @extend_schema(
        operation_id="users_destroy",
        tags=["users"],
        summary="Delete a user",
        description="Deletes the user and all their interactions.",
        parameters=[path_id_param("user_id")],
        responses={204: ok(description="Deleted."), **READ_ERRORS},
    )
    def delete(self, request, user_id: str):
        user_id = clean_path_id(user_id, param="user_id")
        try:
            services.user_delete(tenant=request_tenant(request), user_id=user_id)
        except services.NotFoundError:
            raise _not_found("User", user_id) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class InteractionIngestApi(IngestApi):
    @extend_schema(
        operation_id="interactions_ingest",
        tags=["interactions"],
        summary="Ingest interactions",
        description="Store 1..10,000 interactions. Idempotent by event_id: a replayed row is "
        "counted as duplicate and changes nothing. Unknown users/items are created or the "
        "batch is rejected, per the tenant's unknown_refs setting.",
        request=InteractionsIngestInputSerializer,
        examples=[INTERACTIONS_EXAMPLE],
        responses={
            200: ok(InteractionsIngestOutputSerializer, "Counts of what was written."),
            **WRITE_ERRORS,
        },
    )
    def post(self, request):
        tenant = request_tenant(request)
        serializer = InteractionsIngestInputSerializer(
            data=request.data, context={"tenant": tenant}
        )
        serializer.is_valid(raise_exception=True)
        result = services.interactions_ingest(
            tenant=tenant, rows=serializer.validated_data["interactions"]
        )
        return Response(InteractionsIngestOutputSerializer(result).data)
