"""Registry errors. The API maps them to JSON errors (409 for conflicts, 404 for not found)."""


class RegistryError(Exception):
    """Base class; ``code`` is the machine-readable error code."""

    code = "registry_error"
    status_code = 400

    def __init__(self, message: str, *, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class VersionConflictError(RegistryError):
    """The requested change conflicts with the version's state (e.g. promoting a failed one)."""

    code = "conflict"
    status_code = 409


class NothingToRollBackError(VersionConflictError):
    """There is no previous active version to roll back to."""

    code = "nothing_to_roll_back"
