"""The API's models (generated from the OpenAPI schema): ``from m6rec_client.models import
ItemRow``."""

from m6rec_client._generated.models import *  # noqa: F403
from m6rec_client._generated.models import __all__  # noqa: F401
