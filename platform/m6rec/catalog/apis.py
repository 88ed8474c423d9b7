"""Catalog API v1 (scope ``ingest``): thin views over services and selectors."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
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
from m6rec.common.schema import CURSOR_PARAM, error_responses, limit_param, path_id_param
from m6rec.common.validation import clean_path_id

WRITE_ERRORS = error_responses(400, 401, 403, 413, 415, 429)
READ_ERRORS = error_responses(400, 401, 403, 404, 429)
LIST_ERRORS = error_responses(400, 401, 403, 429)
LIST_PARAMS = [
    CURSOR_PARAM,
    limit_param(maximum=IdCursorPagination.max_page_size, default=IdCursorPagination.page_size),
]


class IngestApi(APIView):
    permission_classes = [HasIngestScope]


def _not_found(what: str, external_id: str) -> NotFound:
    # Identical for "missing" and "belongs to another tenant".
    return NotFound(f"{what} {quoted(external_id)} not found.")


def _paginated(serializer_class, name: str):
    return inline_serializer(
        name=name,
        fields={
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


class ItemListApi(IngestApi):
    @extend_schema(
        operation_id="items_list",
        parameters=LIST_PARAMS,
        responses={200: _paginated(ItemOutputSerializer, "PaginatedItems"), **LIST_ERRORS},
    )
    def get(self, request):
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(
            selectors.item_list(tenant=request_tenant(request)), request, view=self
        )
        return paginator.get_paginated_response(ItemOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="items_upsert",
        request=ItemsUpsertInputSerializer,
        responses={200: UpsertOutputSerializer, **WRITE_ERRORS},
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
        parameters=[path_id_param("item_id")],
        responses={200: ItemOutputSerializer, **READ_ERRORS},
    )
    def get(self, request, item_id: str):
        item_id = clean_path_id(item_id, param="item_id")
        item = selectors.item_get(tenant=request_tenant(request), item_id=item_id)
        if item is None:
            raise _not_found("Item", item_id)
        return Response(ItemOutputSerializer(item).data)

    @extend_schema(
        operation_id="items_destroy",
        parameters=[path_id_param("item_id")],
        responses={204: None, **READ_ERRORS},
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
        parameters=LIST_PARAMS,
        responses={200: _paginated(UserOutputSerializer, "PaginatedUsers"), **LIST_ERRORS},
    )
    def get(self, request):
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(
            selectors.user_list(tenant=request_tenant(request)), request, view=self
        )
        return paginator.get_paginated_response(UserOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="users_upsert",
        request=UsersUpsertInputSerializer,
        responses={200: UpsertOutputSerializer, **WRITE_ERRORS},
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
        parameters=[path_id_param("user_id")],
        responses={200: UserOutputSerializer, **READ_ERRORS},
    )
    def get(self, request, user_id: str):
        user_id = clean_path_id(user_id, param="user_id")
        user = selectors.user_get(tenant=request_tenant(request), user_id=user_id)
        if user is None:
            raise _not_found("User", user_id)
        return Response(UserOutputSerializer(user).data)

    @extend_schema(
        operation_id="users_destroy",
        description="Deletes the user and all their interactions.",
        parameters=[path_id_param("user_id")],
        responses={204: None, **READ_ERRORS},
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
        description="Store 1..10,000 interactions. Idempotent by event_id: a replayed row is "
        "counted as duplicate and changes nothing. Unknown users/items are created or the "
        "batch is rejected, per the tenant's unknown_refs setting.",
        request=InteractionsIngestInputSerializer,
        responses={200: InteractionsIngestOutputSerializer, **WRITE_ERRORS},
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
