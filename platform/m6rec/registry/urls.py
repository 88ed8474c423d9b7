"""``/api/v1/models/...``: training runs (m6rec.training) and the registry (admin scope)."""

from django.urls import path

from m6rec.registry import apis
from m6rec.training import apis as training_apis

urlpatterns = [
    path("train", training_apis.TrainApi.as_view(), name="models-train"),
    path("runs", training_apis.RunListApi.as_view(), name="models-runs"),
    path("runs/<int:run_id>", training_apis.RunDetailApi.as_view(), name="models-run"),
    path("versions", apis.VersionListApi.as_view(), name="models-versions"),
    path("versions/<int:number>", apis.VersionDetailApi.as_view(), name="models-version"),
    path(
        "versions/<int:number>/promote",
        apis.VersionPromoteApi.as_view(),
        name="models-version-promote",
    ),
    path("versions/<int:number>/pin", apis.VersionPinApi.as_view(), name="models-version-pin"),
    path("unpin", apis.UnpinApi.as_view(), name="models-unpin"),
    path("rollback", apis.RollbackApi.as_view(), name="models-rollback"),
]
