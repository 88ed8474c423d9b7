"""Batch errors. The API maps :class:`BatchConflictError` to 409."""


class BatchError(Exception):
    code = "batch_error"

    def __init__(self, message: str, *, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class BatchConflictError(BatchError):
    """The tenant already has a queued or running batch job."""

    code = "batch_in_progress"


class BatchAttemptLost(BatchError):  # noqa: N818 - control flow, not a failure
    """This attempt no longer owns the job (the sweep re-queued it, or another attempt took
    over): stop without touching it."""

    code = "attempt_lost"
