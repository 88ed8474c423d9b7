"""``/api/v1/models/...`` routes of the online loop (admin scope)."""

from django.urls import path

from m6rec.online import apis

urlpatterns = [
    path(
        "versions/<int:number>/online-metrics",
        apis.VersionOnlineMetricsApi.as_view(),
        name="models-version-online-metrics",
    ),
    path("experiments", apis.ExperimentListApi.as_view(), name="experiments"),
    path("experiments/<int:experiment_id>", apis.ExperimentDetailApi.as_view(), name="experiment"),
    path(
        "experiments/<int:experiment_id>/stop",
        apis.ExperimentStopApi.as_view(),
        name="experiment-stop",
    ),
    path(
        "experiments/<int:experiment_id>/promote-winner",
        apis.ExperimentPromoteWinnerApi.as_view(),
        name="experiment-promote-winner",
    ),
]
