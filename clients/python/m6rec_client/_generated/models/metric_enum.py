from enum import StrEnum


class MetricEnum(StrEnum):
    CONVERSION = "conversion"
    CTR = "ctr"

    def __str__(self) -> str:
        return str(self.value)
