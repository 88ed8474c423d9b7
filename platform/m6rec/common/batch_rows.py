"""Batches of rows at the API edge: a :class:`RowSpec` (field → cleaner from
:mod:`m6rec.common.validation`, required fields, defaults) cleans every row and collects every
problem as ``{"row", "field", "message"}``; :class:`BatchRowsField` and
:class:`BatchInputSerializer` wrap that in DRF, so a rejected batch reports all its rows at once
and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rest_framework import serializers

from m6rec.common.errors import BatchValidationError
from m6rec.common.validation import Cleaner, RowError, json_type

MAX_BATCH_ROWS = 10_000


class RowSpec:
    """Field name → cleaner, which fields are required, defaults for the others."""

    def __init__(
        self,
        cleaners: Mapping[str, Cleaner],
        *,
        required: tuple[str, ...],
        defaults: Mapping[str, Any] | None = None,
        fast: Callable[[dict], dict | None] | None = None,
    ) -> None:
        """``fast`` (optional) cleans an ordinary row in one go, or returns None to send it
        through the field-by-field path (which also produces the error messages); it must
        accept only rows that path accepts, with the same result."""
        self.fast = fast
        self.cleaners = dict(cleaners)
        self.required = required
        self.defaults = dict(defaults or {})
        self.allowed = frozenset(self.cleaners)

    def clean(self, rows: list[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """``(cleaned rows, errors)``; a row with errors is ``None`` in the cleaned list."""
        cleaned: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        cleaners, required, defaults, allowed = (
            self.cleaners,
            self.required,
            self.defaults,
            self.allowed,
        )
        fast = self.fast
        for index, row in enumerate(rows):
            if fast is not None and type(row) is dict:
                out = fast(row)
                if out is not None:
                    cleaned.append(out)
                    continue
            if not isinstance(row, dict):
                errors.append(
                    {
                        "row": index,
                        "field": None,
                        "message": f"Must be an object, got {json_type(row)}.",
                    }
                )
                cleaned.append(None)
                continue
            out: dict[str, Any] = {}
            ok = True
            if not row.keys() <= allowed:
                for name in sorted(map(str, row.keys() - allowed)):
                    errors.append({"row": index, "field": name[:100], "message": "Unknown field."})
                ok = False
            for name in required:
                if name not in row:
                    errors.append(
                        {"row": index, "field": name, "message": "This field is required."}
                    )
                    ok = False
            for name, value in row.items():
                cleaner = cleaners.get(name)
                if cleaner is None:
                    continue
                try:
                    out[name] = cleaner(value)
                except RowError as exc:
                    errors.append({"row": index, "field": name, "message": str(exc)})
                    ok = False
            if ok:
                for name, default in defaults.items():
                    if name not in out:
                        out[name] = default() if callable(default) else default
                cleaned.append(out)
            else:
                cleaned.append(None)
        return cleaned, errors


class BatchRowsField(serializers.Field):
    """A JSON array of 1..``max_rows`` rows cleaned by a :class:`RowSpec`.

    Raises :class:`BatchValidationError` (every row and field at once). Subclasses may add
    checks that need the tenant (``self.context["tenant"]``) in :meth:`check_rows`.
    """

    spec: RowSpec
    max_rows = MAX_BATCH_ROWS

    def to_internal_value(self, data):
        if not isinstance(data, list):
            raise BatchValidationError(
                [
                    {
                        "row": None,
                        "field": self.field_name,
                        "message": f"Must be an array, got {json_type(data)}.",
                    }
                ]
            )
        if not 1 <= len(data) <= self.max_rows:
            raise BatchValidationError(
                [
                    {
                        "row": None,
                        "field": self.field_name,
                        "message": f"Send between 1 and {self.max_rows} rows; got {len(data)}.",
                    }
                ]
            )
        rows, errors = self.spec.clean(data)
        errors += self.check_rows(rows)
        if errors:
            errors.sort(key=lambda e: e["row"])
            raise BatchValidationError(errors, total_rows=len(data))
        return rows

    def check_rows(self, rows: list[dict[str, Any] | None]) -> list[dict[str, Any]]:
        """Further checks over all rows; ``None`` marks a row that already failed."""
        return []

    def to_representation(self, value):
        return value


class BatchInputSerializer(serializers.Serializer):
    """An envelope ``{"<rows_key>": [...]}``: unknown keys refused, the rows field's
    :class:`BatchValidationError` passed through untouched."""

    rows_key: str = ""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise BatchValidationError(
                [
                    {
                        "row": None,
                        "field": None,
                        "message": f"Expected a JSON object, got {json_type(data)}.",
                    }
                ]
            )
        problems = [
            {"row": None, "field": str(k)[:100], "message": "Unknown field."}
            for k in data
            if k != self.rows_key
        ]
        if self.rows_key not in data:
            problems.append(
                {"row": None, "field": self.rows_key, "message": "This field is required."}
            )
        if problems:
            raise BatchValidationError(problems)
        return {self.rows_key: self.fields[self.rows_key].run_validation(data[self.rows_key])}

    def is_valid(self, *, raise_exception: bool = False) -> bool:
        # DRF's is_valid would flatten BatchValidationError into a generic ValidationError.
        assert hasattr(self, "initial_data"), "pass data= to the serializer"
        try:
            self._validated_data = self.run_validation(self.initial_data)
        except BatchValidationError as exc:
            self._validated_data = {}
            self._errors = {"errors": exc.errors}
            if raise_exception:
                raise
            return False
        self._errors = {}
        return True
