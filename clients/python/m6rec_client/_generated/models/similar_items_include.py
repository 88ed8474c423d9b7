from enum import StrEnum


class SimilarItemsInclude(StrEnum):
    PROPERTIES = "properties"

    def __str__(self) -> str:
        return str(self.value)
