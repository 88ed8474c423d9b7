from enum import StrEnum


class VersionStatusEnum(StrEnum):
    ACTIVE = "active"
    CANDIDATE = "candidate"
    FAILED = "failed"
    RETIRED = "retired"

    def __str__(self) -> str:
        return str(self.value)
