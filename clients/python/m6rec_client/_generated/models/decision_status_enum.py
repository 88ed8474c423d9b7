from enum import StrEnum


class DecisionStatusEnum(StrEnum):
    COLLECTING = "collecting"
    NO_DIFFERENCE = "no_difference"
    WINNER = "winner"

    def __str__(self) -> str:
        return str(self.value)
