"""What a widget key's operation may not contain whatever its fields' permissions say:
introspection. A widget key reads market data and nothing else (issue 26), and `__schema` /
`__type` are not fields a permission class can guard, so a validation rule refuses them."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import FieldNode, GraphQLError, ValidationRule
from strawberry.extensions import SchemaExtension

from tradegraph.schema.core.context import Context

NO_INTROSPECTION = (
    "a widget key reads only market data: {field} (introspection) is not open to it; "
    "log in to explore the schema"
)


class NoIntrospectionForWidgets(ValidationRule):
    """Refuses `__schema` and `__type` (`__typename` stays), as FORBIDDEN."""

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        if node.name.value in ("__schema", "__type"):
            message = NO_INTROSPECTION.format(field=node.name.value)
            self.report_error(GraphQLError(message, node, extensions={"code": "FORBIDDEN"}))


class WidgetKeyScope(SchemaExtension):
    """Adds NoIntrospectionForWidgets to the validation of a widget key's operations. The
    document cache keys validity by rule set, so a document valid for a user is validated
    again under this set for a widget key."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context) and context.widget_grant is not None:
            rules = self.execution_context.validation_rules
            self.execution_context.validation_rules = (*rules, NoIntrospectionForWidgets)
        yield
