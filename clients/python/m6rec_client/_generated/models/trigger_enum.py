from enum import StrEnum


class TriggerEnum(StrEnum):
    ADMIN = "admin"
    API = "api"
    COMMAND = "command"
    SCHEDULE = "schedule"
    THRESHOLD = "threshold"

    def __str__(self) -> str:
        return str(self.value)
