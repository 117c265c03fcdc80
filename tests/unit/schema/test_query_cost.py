"""The document analysis behind QUERY_TOO_COMPLEX, and the parsed-document cache (no server)."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from graphql import (
    ASTValidationRule,
    GraphQLSchema,
    ValidationContext,
    get_introspection_query,
    parse,
)
from strawberry.extensions import AddValidationRules

from tradegraph.api import build_schema
from tradegraph.config import Settings
from tradegraph.schema.core.document_cache import DocumentCache
from tradegraph.schema.core.query_cost import (
    CAP,
    DEFAULT_LIST_SIZE,
    DocumentMeasure,
    FragmentCycle,
    QueryLimits,
    limit_exceeded,
    measure_document,
)
from tradegraph.schema.core.query_cost_limit import QueryLimiter


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema()._schema


def measure(schema: GraphQLSchema, query: str, **variables: Any) -> DocumentMeasure:
    return measure_document(parse(query), schema, variables)


def doubling_fragments(levels: int) -> str:
    """`query { ...F<levels> }` where each F<i> spreads F<i-1> twice: 2^levels fields."""
    fragments = ["fragment F0 on Query { __typename }"]
    for i in range(1, levels + 1):
        fragments.append(f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}")
    return f"query {{ ...F{levels} }}\n" + "\n".join(fragments)


def test_counts_fields_depth_and_aliases_like_strawberry(schema: GraphQLSchema) -> None:
    result = measure(schema, "{ me { id mail: email } __typename }")
    assert (result.fields, result.depth, result.aliases) == (4, 1, 1)
    assert measure(schema, "{ __typename }").depth == 0  # a leaf is depth 0


def test_fragments_double_per_level_and_are_measured_once(schema: GraphQLSchema) -> None:
    # An analysis that re-walked each spread would take 2^40 steps and never return.
    assert measure(schema, doubling_fragments(40)).fields == 2**40


def test_counts_saturate_instead_of_growing_without_bound(schema: GraphQLSchema) -> None:
    result = measure(schema, doubling_fragments(200))
    assert result.fields == CAP
    error = limit_exceeded(result, QueryLimits(max_fields=1_000))
    assert error is not None
    assert error.message == (
        f"field count (fragments expanded) over {CAP} exceeds the limit of 1000"
        " (TRADEGRAPH_GRAPHQL_MAX_FIELDS)"
    )


def test_aliases_inside_fragments_count_at_every_spread(schema: GraphQLSchema) -> None:
    query = """{ ...A ...A me { ...M } }
    fragment A on Query { a: __typename b: __typename }
    fragment M on User { x: id }"""
    assert measure(schema, query).aliases == 5


def test_depth_goes_through_fragments_and_inline_fragments(schema: GraphQLSchema) -> None:
    query = """{ portfolios { ...P } }
    fragment P on Portfolio { positions { ... on Position { symbol } } owner { id } }"""
    assert measure(schema, query).depth == 2


def test_a_page_multiplies_the_lists_inside_it_only(schema: GraphQLSchema) -> None:
    query = "{ events(first: 500) { totalCount pageInfo { hasNextPage } edges { node { id } } } }"
    # events 1 + totalCount 1 + pageInfo 2 + edges 1 + 500 * (node 1 + id 1)
    assert measure(schema, query).cost == 1 + 1 + 2 + 1 + 500 * 2


def test_page_size_comes_from_variables_then_variable_defaults_then_the_schema(
    schema: GraphQLSchema,
) -> None:
    query = "query($n: Int! = 7) { events(first: $n) { edges { node { id } } } }"
    assert measure(schema, query, n=300).cost == 2 + 300 * 2
    assert measure(schema, query).cost == 2 + 7 * 2
    assert measure(schema, query, n=300).uses_variables
    assert measure(schema, "{ events { edges { node { id } } } }").cost == 2 + 20 * 2
    assert not measure(schema, "{ events { edges { node { id } } } }").uses_variables


def test_lists_nothing_sizes_count_as_the_default_page(schema: GraphQLSchema) -> None:
    query = "{ portfolios { positions { symbol } } }"
    assert measure(schema, query).cost == 1 + DEFAULT_LIST_SIZE * (1 + DEFAULT_LIST_SIZE * 1)


def test_nested_lists_under_a_large_page_exceed_the_default_cost(schema: GraphQLSchema) -> None:
    query = """query($first: Int!) { backtests(first: $first) { edges { node { result {
      trades { entryTime entryPrice exitTime exitPrice pnl }
      equityCurve { time equity }
    } } } } }"""
    assert limit_exceeded(measure(schema, query, first=100), QueryLimits()) is None
    error = limit_exceeded(measure(schema, query, first=500), QueryLimits())
    assert error is not None
    assert error.extensions == {"code": "QUERY_TOO_COMPLEX"}
    assert "exceeds the limit of 50000 (TRADEGRAPH_GRAPHQL_MAX_COST)" in error.message


def test_graphiql_introspection_fits_the_default_limits(schema: GraphQLSchema) -> None:
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    result = measure(schema, query)
    assert result.depth == 0  # introspection is bounded by MaxIntrospectionDepthRule instead
    assert result.cost == result.fields
    assert limit_exceeded(result, QueryLimits()) is None


def test_the_first_exceeded_limit_is_named_with_its_value(schema: GraphQLSchema) -> None:
    deep = "{ a " * 14 + "{ b }" + " }" * 14  # measured before validation: unknown fields count
    assert measure(schema, deep).depth == 14
    error = limit_exceeded(
        DocumentMeasure(fields=20, depth=14, aliases=0, cost=20, uses_variables=False),
        QueryLimits(),
    )
    assert error is not None
    assert error.message == "query depth 14 exceeds the limit of 10 (TRADEGRAPH_GRAPHQL_MAX_DEPTH)"


def test_fragment_cycles_are_refused(schema: GraphQLSchema) -> None:
    query = """{ ...A }
    fragment A on Query { ...B }
    fragment B on Query { __typename ...C }
    fragment C on Query { ...A }"""
    with pytest.raises(FragmentCycle) as refused:
        measure(schema, query)
    assert refused.value.message == "fragment A spreads itself (A -> B -> C -> A)"
    with pytest.raises(FragmentCycle):
        measure(schema, "{ ...S } fragment S on Query { ...S }")


def test_a_long_fragment_chain_needs_no_deep_recursion(schema: GraphQLSchema) -> None:
    fragments = "\n".join(f"fragment F{i} on Query {{ ...F{i - 1} }}" for i in range(1, 3000))
    query = f"{{ ...F2999 }}\nfragment F0 on Query {{ __typename }}\n{fragments}"
    assert measure(schema, query).fields == 1


def test_unknown_fields_types_and_fragments_are_left_to_validation(schema: GraphQLSchema) -> None:
    query = "{ nope(first: 5) { x { y } } ...Missing ... on Nowhere { z } }"
    assert measure(schema, query).fields == 4


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEGRAPH_GRAPHQL_MAX_DEPTH", "14")
    monkeypatch.setenv("TRADEGRAPH_GRAPHQL_MAX_COST", "1234")
    limits = QueryLimits.from_settings(Settings())
    assert (limits.max_depth, limits.max_cost, limits.max_aliases) == (14, 1234, 30)


def test_graphiql_and_introspection_are_off_in_production_unless_turned_on() -> None:
    def enabled(**values: Any) -> tuple[bool, bool]:
        settings = Settings(**values)
        return settings.graphiql_enabled, settings.introspection_enabled

    assert enabled() == (True, True)
    assert enabled(environment="production") == (False, False)
    assert enabled(environment="production", graphiql=True, introspection=True) == (True, True)
    assert enabled(environment="production", graphiql=True) == (True, False)
    assert enabled(graphiql=False, introspection=False) == (False, False)


def test_the_cache_returns_the_same_document_for_the_same_text() -> None:
    cache = DocumentCache()
    first = cache.parse("{ me { id } }", max_tokens=100)
    assert cache.parse("{ me { id } }", max_tokens=100) is first
    assert cache.parse("{ me { email } }", max_tokens=100) is not first
    assert (cache.hits, cache.misses) == (1, 2)


def test_the_cache_evicts_the_least_recently_used_and_bounds_its_text() -> None:
    cache = DocumentCache(max_entries=2, max_text=1600)
    cache.parse("{ a }", 100)
    cache.parse("{ b }", 100)
    cache.parse("{ a }", 100)  # now the most recent
    cache.parse("{ c }", 100)
    assert [text in cache for text in ("{ a }", "{ b }", "{ c }")] == [True, False, True]
    big = "{ " + "x " * 60 + "}"  # over max_text // 16: parsed, not kept
    cache.parse(big, 1000)
    assert big not in cache
    assert len(cache) == 2


class CountValidations(ASTValidationRule):
    runs = 0

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        CountValidations.runs += 1


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "hi"


async def test_a_repeated_query_is_parsed_and_validated_once() -> None:
    cache = DocumentCache()
    schema = strawberry.Schema(
        query=Query,
        extensions=[
            lambda: QueryLimiter(QueryLimits(), cache),
            lambda: AddValidationRules([CountValidations]),
        ],
    )
    CountValidations.runs = 0
    for _ in range(3):
        assert (await schema.execute("{ hello }")).data == {"hello": "hi"}
    assert (cache.misses, cache.hits, CountValidations.runs) == (1, 2, 1)
    # An invalid document is validated (and refused) every time: only success is remembered.
    for _ in range(2):
        assert (await schema.execute("{ goodbye }")).errors
    assert CountValidations.runs == 3
