"""Contains all the data models used in inputs/outputs"""

from .change_input import ChangeInput
from .error import Error
from .error_body import ErrorBody
from .error_details import ErrorDetails
from .field_error import FieldError
from .interaction_row import InteractionRow
from .interactions_ingest_input import InteractionsIngestInput
from .interactions_ingest_output import InteractionsIngestOutput
from .item_output import ItemOutput
from .item_row import ItemRow
from .items_upsert_input import ItemsUpsertInput
from .paginated_items import PaginatedItems
from .paginated_runs import PaginatedRuns
from .paginated_users import PaginatedUsers
from .paginated_versions import PaginatedVersions
from .recommendations_output import RecommendationsOutput
from .recommended_item_output import RecommendedItemOutput
from .run_output import RunOutput
from .run_output_status_enum import RunOutputStatusEnum
from .session_recommendations_input import SessionRecommendationsInput
from .strategy_enum import StrategyEnum
from .trigger_enum import TriggerEnum
from .unpin_output import UnpinOutput
from .upsert_output import UpsertOutput
from .user_output import UserOutput
from .user_row import UserRow
from .users_upsert_input import UsersUpsertInput
from .version_output import VersionOutput
from .version_output_status_enum import VersionOutputStatusEnum

__all__ = (
    "ChangeInput",
    "Error",
    "ErrorBody",
    "ErrorDetails",
    "FieldError",
    "InteractionRow",
    "InteractionsIngestInput",
    "InteractionsIngestOutput",
    "ItemOutput",
    "ItemRow",
    "ItemsUpsertInput",
    "PaginatedItems",
    "PaginatedRuns",
    "PaginatedUsers",
    "PaginatedVersions",
    "RecommendationsOutput",
    "RecommendedItemOutput",
    "RunOutput",
    "RunOutputStatusEnum",
    "SessionRecommendationsInput",
    "StrategyEnum",
    "TriggerEnum",
    "UnpinOutput",
    "UpsertOutput",
    "UserOutput",
    "UserRow",
    "UsersUpsertInput",
    "VersionOutput",
    "VersionOutputStatusEnum",
)
