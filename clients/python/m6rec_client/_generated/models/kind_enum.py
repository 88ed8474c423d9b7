from enum import StrEnum


class KindEnum(StrEnum):
    ITEM_ITEM = "item_item"
    MF = "mf"
    MODEL = "model"
    POPULARITY = "popularity"
    SIMILAR = "similar"

    def __str__(self) -> str:
        return str(self.value)
