from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.strategy_enum import StrategyEnum

if TYPE_CHECKING:
    from ..models.experiment_arm_output import ExperimentArmOutput
    from ..models.recommended_item_output import RecommendedItemOutput


T = TypeVar("T", bound="RecommendationsOutput")


@_attrs_define
class RecommendationsOutput:
    """
    Attributes:
        items (list[RecommendedItemOutput]):
        model_version (int | None):
        strategy (StrategyEnum): * `model` - model
            * `popularity` - popularity
        recommendation_id (str): Send it with the interactions this response leads to (`POST interactions`, field
            `recommendation_id`) to attribute them to the version, arm and position.
        experiment (ExperimentArmOutput | None):
        request_id (str):
    """

    items: list[RecommendedItemOutput]
    model_version: int | None
    strategy: StrategyEnum
    recommendation_id: str
    experiment: ExperimentArmOutput | None
    request_id: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.experiment_arm_output import ExperimentArmOutput

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        model_version: int | None
        model_version = self.model_version

        strategy = self.strategy.value

        recommendation_id = self.recommendation_id

        experiment: dict[str, Any] | None
        if isinstance(self.experiment, ExperimentArmOutput):
            experiment = self.experiment.to_dict()
        else:
            experiment = self.experiment

        request_id = self.request_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "items": items,
                "model_version": model_version,
                "strategy": strategy,
                "recommendation_id": recommendation_id,
                "experiment": experiment,
                "request_id": request_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.experiment_arm_output import ExperimentArmOutput
        from ..models.recommended_item_output import RecommendedItemOutput

        d = dict(src_dict)
        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = RecommendedItemOutput.from_dict(items_item_data)

            items.append(items_item)

        def _parse_model_version(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        model_version = _parse_model_version(d.pop("model_version"))

        strategy = StrategyEnum(d.pop("strategy"))

        recommendation_id = d.pop("recommendation_id")

        def _parse_experiment(data: object) -> ExperimentArmOutput | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                experiment_type_1 = ExperimentArmOutput.from_dict(data)

                return experiment_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ExperimentArmOutput | None, data)

        experiment = _parse_experiment(d.pop("experiment"))

        request_id = d.pop("request_id")

        recommendations_output = cls(
            items=items,
            model_version=model_version,
            strategy=strategy,
            recommendation_id=recommendation_id,
            experiment=experiment,
            request_id=request_id,
        )

        recommendations_output.additional_properties = d
        return recommendations_output

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
