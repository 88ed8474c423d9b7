"""``/api/v1/models/batch-recommendations...`` (admin scope)."""

from django.urls import path

from m6rec.batch import apis

urlpatterns = [
    path(
        "batch-recommendations",
        apis.BatchJobListCreateApi.as_view(),
        name="models-batch-recommendations",
    ),
    path(
        "batch-recommendations/<int:job_id>",
        apis.BatchJobDetailApi.as_view(),
        name="models-batch-recommendation",
    ),
    path(
        "batch-recommendations/<int:job_id>/download",
        apis.BatchJobDownloadApi.as_view(),
        name="models-batch-recommendations-download",
    ),
]
