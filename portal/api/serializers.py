from django.db import models
from rest_framework import serializers


class GuidField(serializers.UUIDField):
    """A GUID given as a string. DRF's UUIDField also takes integers (42 becomes
    00000000-...-00000000002a), which would silently accept a wrong Entra tenant ID."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class StrictFieldsMixin:
    """Reject unknown and read-only fields instead of silently ignoring them.

    A typo in an integration ("stauts") must be a 400 with the field named, not a write
    that quietly did nothing.
    """

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [
                            "This field is read-only." if name in self.fields else "Unknown field."
                        ]
                        for name in unknown
                    }
                )
        elif data is not None:
            raise serializers.ValidationError(
                {"non_field_errors": ["Expected a JSON object."]}, code="invalid"
            )
        return super().to_internal_value(data)


class StrictSerializer(StrictFieldsMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.UUIDField: GuidField,
    }


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related field that accepts only objects the caller may see.

    Another tenant's id is answered like a missing one, so existence does not leak.
    """

    def get_queryset(self):
        from tenants.principals import request_principal

        queryset = super().get_queryset()
        request = self.context.get("request")
        if request is None:
            return queryset.none()
        return queryset.visible_to(request_principal(request))
