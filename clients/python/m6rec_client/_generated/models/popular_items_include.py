from enum import StrEnum


class PopularItemsInclude(StrEnum):
    PROPERTIES = "properties"

    def __str__(self) -> str:
        return str(self.value)
