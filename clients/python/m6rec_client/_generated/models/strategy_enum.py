from enum import StrEnum


class StrategyEnum(StrEnum):
    MODEL = "model"
    POPULARITY = "popularity"

    def __str__(self) -> str:
        return str(self.value)
