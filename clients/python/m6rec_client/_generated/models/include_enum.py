from enum import StrEnum


class IncludeEnum(StrEnum):
    PROPERTIES = "properties"

    def __str__(self) -> str:
        return str(self.value)
