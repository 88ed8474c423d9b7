"""Experiment errors; the API maps them to 400 / 404 / 409 JSON errors."""

from __future__ import annotations


class ExperimentError(Exception):
    code = "experiment_error"
    status_code = 400

    def __init__(self, message: str, *, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ExperimentInvalid(ExperimentError):
    """Arguments that can never start an experiment (details name the fields)."""

    code = "invalid"
    status_code = 400


class ExperimentNotFound(ExperimentError):
    """No such experiment for this tenant (another tenant's included)."""

    code = "not_found"
    status_code = 404


class ExperimentConflict(ExperimentError):
    """The tenant's state forbids it now (one running already, not running, no winner…)."""

    code = "conflict"
    status_code = 409
