"""Introspection rules: bounded nesting always, and off altogether (production's default)."""

from __future__ import annotations

from graphql import FieldNode, GraphQLError, MaxIntrospectionDepthRule, ValidationRule
from strawberry.extensions import AddValidationRules


class NoIntrospection(ValidationRule):
    """Refuses `__schema` and `__type`, the only ways into introspection (`__typename` stays),
    with the setting that turns introspection on."""

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        if node.name.value in ("__schema", "__type"):
            self.report_error(
                GraphQLError(
                    f"introspection is off: cannot query {node.name.value}"
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
