"""Python client of the M6-Rec API.

    from m6rec_client import Client
    client = Client("http://127.0.0.1:8000", "m6r_…")
    client.upsert_items({"item_id": str(i)} for i in range(50_000))   # 5 requests
    for item in client.iter_items(): ...

``m6rec_client._generated`` is generated from the API's OpenAPI schema (``make sdk``);
``m6rec_client.models`` re-exports its models.
"""

from m6rec_client.client import MAX_BATCH_ROWS, Client, operation
from m6rec_client.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ServiceUnavailableError,
    UnsupportedMediaTypeError,
)

__version__ = "0.1.0"
__all__ = [
    "MAX_BATCH_ROWS",
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConflictError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "ServiceUnavailableError",
    "UnsupportedMediaTypeError",
    "operation",
]
