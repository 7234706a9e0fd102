"""api.serializers.ModelSerializer builds a class's fields from its model once, and
gives every instance the same fields DRF would build, as copies of its own."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from api import serializers as api_serializers

MODEL_SERIALIZERS = [
    cls
    for cls in vars(api_serializers).values()
    if isinstance(cls, type)
    and issubclass(cls, serializers.ModelSerializer)
    and cls is not api_serializers.ModelSerializer
]


def test_every_model_serializer_of_the_api_keeps_its_fields() -> None:
    assert len(MODEL_SERIALIZERS) >= 7
    assert all(issubclass(cls, api_serializers.ModelSerializer) for cls in MODEL_SERIALIZERS)


@pytest.mark.parametrize("cls", MODEL_SERIALIZERS, ids=lambda cls: cls.__name__)
def test_the_fields_are_those_drf_builds(cls: type[serializers.ModelSerializer]) -> None:
    cls()  # built and kept
    kept = cls().get_fields()
    built = serializers.ModelSerializer.get_fields(cls())  # DRF's own, from the model
    assert {name: repr(field) for name, field in kept.items()} == {
        name: repr(field) for name, field in built.items()
    }


@pytest.mark.parametrize("cls", MODEL_SERIALIZERS, ids=lambda cls: cls.__name__)
def test_each_instance_has_its_own_fields(cls: type[serializers.ModelSerializer]) -> None:
    first, second = cls(), cls()
    for name in first.fields:
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second


def test_the_model_is_read_once_per_class(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    drf_get_fields = serializers.ModelSerializer.get_fields

    def counting(self: serializers.ModelSerializer) -> dict[str, serializers.Field]:
        calls.append(type(self))
        return drf_get_fields(self)

    monkeypatch.setattr(serializers.ModelSerializer, "get_fields", counting)
    monkeypatch.setattr(api_serializers, "_MODEL_FIELDS", {})
    for _ in range(3):
        assert "reference" in api_serializers.EnrollmentItemSerializer().fields
        assert "codice_fiscale" in api_serializers.PupilSerializer().fields
    assert calls == [api_serializers.EnrollmentItemSerializer, api_serializers.PupilSerializer]
