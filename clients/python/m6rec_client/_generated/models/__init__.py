"""Contains all the data models used in inputs/outputs"""

from .arm_result import ArmResult
from .batch_job_input import BatchJobInput
from .batch_job_output import BatchJobOutput
from .batch_status_enum import BatchStatusEnum
from .change_input import ChangeInput
from .counts import Counts
from .day import Day
from .decision import Decision
from .decision_status_enum import DecisionStatusEnum
from .error import Error
from .error_body import ErrorBody
from .error_details import ErrorDetails
from .evidence_output import EvidenceOutput
from .experiment_arm_output import ExperimentArmOutput
from .experiment_detail_output import ExperimentDetailOutput
from .experiment_output import ExperimentOutput
from .experiment_start_input import ExperimentStartInput
from .experiment_status_enum import ExperimentStatusEnum
from .explanation_output import ExplanationOutput
from .field_error import FieldError
from .include_enum import IncludeEnum
from .interaction_row import InteractionRow
from .interactions_ingest_input import InteractionsIngestInput
from .interactions_ingest_output import InteractionsIngestOutput
from .item_output import ItemOutput
from .item_row import ItemRow
from .items_upsert_input import ItemsUpsertInput
from .kind_enum import KindEnum
from .metric_enum import MetricEnum
from .online_metrics_output import OnlineMetricsOutput
from .paginated_batch_jobs import PaginatedBatchJobs
from .paginated_experiments import PaginatedExperiments
from .paginated_items import PaginatedItems
from .paginated_runs import PaginatedRuns
from .paginated_users import PaginatedUsers
from .paginated_versions import PaginatedVersions
from .popular_items_include import PopularItemsInclude
from .rate import Rate
from .recommendations_output import RecommendationsOutput
from .recommended_item_output import RecommendedItemOutput
from .recommended_item_output_properties import RecommendedItemOutputProperties
from .results_output import ResultsOutput
from .run_output import RunOutput
from .run_status_enum import RunStatusEnum
from .session_recommendations_input import SessionRecommendationsInput
from .similar_items_include import SimilarItemsInclude
from .stop_input import StopInput
from .strategy_enum import StrategyEnum
from .trigger_enum import TriggerEnum
from .unpin_output import UnpinOutput
from .upsert_output import UpsertOutput
from .user_output import UserOutput
from .user_recommendations_include import UserRecommendationsInclude
from .user_row import UserRow
from .users_upsert_input import UsersUpsertInput
from .version_output import VersionOutput
from .version_status_enum import VersionStatusEnum
from .vs_control import VsControl

__all__ = (
    "ArmResult",
    "BatchJobInput",
    "BatchJobOutput",
    "BatchStatusEnum",
    "ChangeInput",
    "Counts",
    "Day",
    "Decision",
    "DecisionStatusEnum",
    "Error",
    "ErrorBody",
    "ErrorDetails",
    "EvidenceOutput",
    "ExperimentArmOutput",
    "ExperimentDetailOutput",
    "ExperimentOutput",
    "ExperimentStartInput",
    "ExperimentStatusEnum",
    "ExplanationOutput",
    "FieldError",
    "IncludeEnum",
    "InteractionRow",
    "InteractionsIngestInput",
    "InteractionsIngestOutput",
    "ItemOutput",
    "ItemRow",
    "ItemsUpsertInput",
    "KindEnum",
    "MetricEnum",
    "OnlineMetricsOutput",
    "PaginatedBatchJobs",
    "PaginatedExperiments",
    "PaginatedItems",
    "PaginatedRuns",
    "PaginatedUsers",
    "PaginatedVersions",
    "PopularItemsInclude",
    "Rate",
    "RecommendationsOutput",
    "RecommendedItemOutput",
    "RecommendedItemOutputProperties",
    "ResultsOutput",
    "RunOutput",
    "RunStatusEnum",
    "SessionRecommendationsInput",
    "SimilarItemsInclude",
    "StopInput",
    "StrategyEnum",
    "TriggerEnum",
    "UnpinOutput",
    "UpsertOutput",
    "UserOutput",
    "UserRecommendationsInclude",
    "UserRow",
    "UsersUpsertInput",
    "VersionOutput",
    "VersionStatusEnum",
    "VsControl",
)
