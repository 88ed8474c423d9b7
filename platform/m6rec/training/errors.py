"""Training errors. The API maps :class:`TrainingConflictError` to 409."""


class TrainingError(Exception):
    code = "training_error"
    status_code = 400

    def __init__(self, message: str, *, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class TrainingConflictError(TrainingError):
    """The tenant already has a queued or running training run."""

    code = "training_in_progress"
    status_code = 409


class TrainingDataError(TrainingError):
    """The tenant's data cannot be trained on (no interactions, unknown types, ...)."""

    code = "training_data"


class RunCancelled(TrainingError):  # noqa: N818 - control flow, not a failure
    """Raised inside a run when it was cancelled while running."""

    code = "cancelled"
