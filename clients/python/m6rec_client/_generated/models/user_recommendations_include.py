from enum import StrEnum


class UserRecommendationsInclude(StrEnum):
    PROPERTIES = "properties"

    def __str__(self) -> str:
        return str(self.value)
