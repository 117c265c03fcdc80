"""Introspection rules: bounded nesting always, and off altogether (production's default)."""

from __future__ import annotations

from graphql import (
    FieldNode,
    GraphQLError,
    MaxIntrospectionDepthRule,
    ValidationRule,
    get_named_type,
    is_introspection_type,
)
from strawberry.extensions import AddValidationRules


class NoIntrospection(ValidationRule):
    """Like graphql-core's NoSchemaIntrospectionCustomRule, with the setting that turns it off."""

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        field_type = get_named_type(self.context.get_type())
        if field_type is not None and is_introspection_type(field_type):
            self.report_error(
                GraphQLError(
                    f"introspection is off: cannot query '{node.name.value}'"
                    " (TRADEGRAPH_INTROSPECTION=true turns it on)",
                    node,
                )
            )


class DisableIntrospection(AddValidationRules):
    def __init__(self) -> None:
        super().__init__([NoIntrospection])


class LimitIntrospectionDepth(AddValidationRules):
    """graphql-core's recommended rule (not in specified_rules): `fields`/`interfaces`/…
    nested at most 3 levels, so `__schema { types { fields { type { fields …` cannot explode."""

    def __init__(self) -> None:
        super().__init__([MaxIntrospectionDepthRule])
