"""with_code: which GraphQL errors are the caller's (and how) and which are the server's."""

from __future__ import annotations

import math

from graphql import (
    ExecutionResult,
    GraphQLField,
    GraphQLFloat,
    GraphQLObjectType,
    GraphQLSchema,
    execute,
    parse,
)

from tradegraph.api import build_schema
from tradegraph.error_codes import INTERNAL
from tradegraph.schema.core.errors import with_code

DEPOSIT = 'mutation { deposit(portfolioId: "p", amount: %s) { cash } }'
DEPOSIT_VARIABLE = 'mutation($a: Decimal!) { deposit(portfolioId: "p", amount: $a) { cash } }'


async def test_a_result_its_type_cannot_serialise_is_an_internal_error_not_validation() -> None:
    schema = GraphQLSchema(
        GraphQLObjectType(
            "Query", {"total": GraphQLField(GraphQLFloat, resolve=lambda *_: math.inf)}
        )
    )
    result = execute(schema, parse("{ total }"))
    assert isinstance(result, ExecutionResult)  # a synchronous resolver
    (error,) = result.errors or []
    assert "Float cannot represent" in error.message  # the failure of issue 10
    coded = with_code(error)
    assert coded.extensions == {"code": INTERNAL.code}
    assert coded.message == "internal server error"
    assert coded.path == ["total"]


async def test_request_errors_keep_their_codes() -> None:
    schema = build_schema()
    cases = {
        "{ nope }": "GRAPHQL_VALIDATION_FAILED",
        "{ ": "GRAPHQL_PARSE_FAILED",
        DEPOSIT % '"1_000"': "BAD_USER_INPUT",  # a Decimal literal the scalar refuses
        DEPOSIT % "true": "BAD_USER_INPUT",
        DEPOSIT % "1e400": "BAD_USER_INPUT",
    }
    for query, code in cases.items():
        result = await schema.execute(query)
        codes = [(with_code(e).extensions or {}).get("code") for e in result.errors or []]
        assert codes == [code], query
    result = await schema.execute(DEPOSIT_VARIABLE, variable_values={"a": "1e5"})
    (error,) = result.errors or []
    coded = with_code(error)
    assert coded.extensions == {"code": "BAD_USER_INPUT"}
    assert coded.message.startswith("Variable '$a' has invalid value")
    assert "ASCII digits" in coded.message
