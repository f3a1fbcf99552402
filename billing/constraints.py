"""A database constraint that exists only where the database can enforce it.

`PostgresExclusionConstraint` is Django's `ExclusionConstraint` on PostgreSQL and nothing on
other databases (the SQLite embedded default), where the service's own check is the guard.
Keeping it in `Meta.constraints` lets migrations, `makemigrations --check` and model
validation (admin forms) see it on every backend.
"""

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeBoundary
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Func


class DateRange(Func):
    """`daterange(start, end, '[)')`: a half-open range of days; a NULL end is unbounded."""

    function = "daterange"
    output_field = DateRangeField()

    def __init__(self, start, end, **extra):
        super().__init__(start, end, RangeBoundary(), **extra)


class PostgresExclusionConstraint(ExclusionConstraint):
    @staticmethod
    def _enforced(schema_editor) -> bool:
        return schema_editor.connection.vendor == "postgresql"

    def constraint_sql(self, model, schema_editor):
        return (
            super().constraint_sql(model, schema_editor) if self._enforced(schema_editor) else None
        )

    def create_sql(self, model, schema_editor):
        return super().create_sql(model, schema_editor) if self._enforced(schema_editor) else None

    def remove_sql(self, model, schema_editor):
        return super().remove_sql(model, schema_editor) if self._enforced(schema_editor) else None

    def validate(self, model, instance, exclude=None, using=DEFAULT_DB_ALIAS):
        if connections[using].vendor != "postgresql":
            return
        super().validate(model, instance, exclude=exclude, using=using)
