"""web/json_cost.py: documents refused by value count and depth before they are parsed, with
brackets and commas inside strings (escaped quotes too) not counted as structure."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable

import pytest

from tradegraph.web import json_cost
from tradegraph.web.json_cost import (
    MAX_JSON_DEPTH,
    MAX_JSON_VALUES,
    CostScan,
    JSONTooCostly,
    check_cost,
    check_cost_yielding,
    decode,
    decode_off_loop,
)


def nested(levels: int, opener: str = "[", closer: str = "]") -> str:
    return opener * levels + closer * levels


def mixed(levels: int) -> str:
    """Alternating objects and arrays, with values beside each level (no long opener runs)."""
    text = "1"
    for level in range(levels):
        text = f'{{"k": {text}, "v": 2}}' if level % 2 else f"[0, {text}]"
    return text


@pytest.mark.parametrize("build", [nested, mixed])
def test_the_depth_limit_is_exact(build: Callable[[int], str]) -> None:
    check_cost(build(MAX_JSON_DEPTH))
    with pytest.raises(JSONTooCostly, match=f"nested more than {MAX_JSON_DEPTH} levels"):
        check_cost(build(MAX_JSON_DEPTH + 1))


def test_brackets_commas_and_escaped_quotes_inside_strings_are_not_structure() -> None:
    text = json.dumps({"s": '[{"' * 5_000 + "," * (MAX_JSON_VALUES + 10) + '\\"]'})
    assert decode(text) == json.loads(text)


def test_the_value_limit_is_exact() -> None:
    check_cost("[" + ",".join(["1"] * (MAX_JSON_VALUES - 1)) + "]")  # and the array itself
    with pytest.raises(JSONTooCostly, match=f"more than {MAX_JSON_VALUES} values"):
        check_cost("[" + ",".join(["1"] * MAX_JSON_VALUES) + "]")


def test_empty_containers_count_as_values() -> None:
    with pytest.raises(JSONTooCostly, match="values"):
        check_cost("[" + ",".join(["{}"] * MAX_JSON_VALUES) + "]")


async def test_a_big_document_decodes_off_the_loop_to_the_same_value() -> None:
    value = {"rows": [{"n": n, "x": n / 7, "s": "a]b"} for n in range(20_000)]}
    text = json.dumps(value)
    assert len(text) > 64 * 1024
    decoded = await decode_off_loop(text)
    assert decoded["rows"][:3] == json.loads(text)["rows"][:3]
    assert len(decoded["rows"]) == 20_000


async def test_invalid_json_is_a_decode_error_on_both_paths() -> None:
    with pytest.raises(json.JSONDecodeError):
        decode("{not json")
    with pytest.raises(json.JSONDecodeError):
        await decode_off_loop("[" + "1," * 40_000 + "}")


@pytest.mark.parametrize("piece", [1, 7, 4096, 70_000])
def test_a_document_fed_in_pieces_is_judged_as_when_whole(
    piece: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Strings, escapes and brackets cut across pieces: the same verdicts as the whole text."""
    monkeypatch.setattr(json_cost, "SCAN_STEP", 16)  # a scan step every few pieces
    inside = '[{"\\\\\\"' * 50 + "," * 200
    head = json.dumps({"s": inside, "rows": [[{"a": [1, "]"]}]] * 300})[:-1]
    good = head + ', "deep": ' + nested(MAX_JSON_DEPTH - 1) + "}"
    bad = head + ', "deep": ' + mixed(MAX_JSON_DEPTH) + "}"
    json.loads(good)
    for text, passes in ((good, True), (bad, False)):
        raw = text.encode()
        scan = CostScan()
        try:
            for start in range(0, len(raw), piece):
                scan.feed(raw[start : start + piece])
            scan.finish()
        except JSONTooCostly:
            assert not passes
        else:
            assert passes


def test_a_scan_stops_at_the_first_piece_past_the_value_limit() -> None:
    scan = CostScan()
    with pytest.raises(JSONTooCostly, match="values"):
        scan.feed(b'{"x": [' + b"{}," * MAX_JSON_VALUES)  # no closing: the rest never came


async def test_a_big_document_is_checked_with_the_loops_turn_between_steps() -> None:
    turns = 0

    async def count_turns() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    counter = asyncio.create_task(count_turns())
    await asyncio.sleep(0)
    with pytest.raises(JSONTooCostly, match="values"):
        await check_cost_yielding("[" + ",".join(["{}"] * MAX_JSON_VALUES) + "]")
    counter.cancel()
    assert turns > 2  # the loop ran other work between scan steps


def reference_cost(text: str) -> tuple[int, int]:
    """Values and deepest nesting, character by character: what CostScan must agree with."""
    values, depth, peak, inside, escaped = 1, 0, 0, False, False
    for char in text:
        if inside:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                inside = False
        elif char == '"':
            inside = True
        elif char in "[{":
            values, depth = values + 1, depth + 1
            peak = max(peak, depth)
        elif char in "]}":
            depth -= 1
        elif char == ",":
            values += 1
    return values, peak


def random_value(rng: random.Random, depth: int) -> object:
    kind = rng.random()
    if depth > 9 or kind < 0.35:
        pieces = ['"', "\\", "[", "]", "{", "}", ",", "a", "\\\\", '\\"', "é"]
        return "".join(rng.choice(pieces) for _ in range(rng.randrange(6)))
    if kind < 0.45:
        return rng.choice([0, 1.5, True, None])
    if kind < 0.75:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {f"k{n}": random_value(rng, depth + 1) for n in range(rng.randrange(4))}


@pytest.mark.parametrize("seed", range(40))
def test_verdicts_agree_with_a_character_by_character_count_in_any_pieces(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random documents (strings full of quotes, backslashes and brackets) cut into random
    pieces: refused exactly when the reference count passes the limits."""
    rng = random.Random(seed)
    monkeypatch.setattr(json_cost, "SCAN_STEP", rng.choice([1, 3, 16, 64]))
    monkeypatch.setattr(json_cost, "MAX_JSON_DEPTH", rng.randrange(3, 9))
    monkeypatch.setattr(json_cost, "MAX_JSON_VALUES", rng.randrange(20, 200))
    for _ in range(25):
        text = json.dumps(random_value(rng, 0), ensure_ascii=rng.random() < 0.5)
        values, peak = reference_cost(text)
        refused = values > json_cost.MAX_JSON_VALUES or peak > json_cost.MAX_JSON_DEPTH
        raw = text.encode()
        scan = CostScan()
        try:
            at = 0
            while at < len(raw):
                step = rng.randrange(1, 40)
                scan.feed(raw[at : at + step])
                at += step
            scan.finish()
        except JSONTooCostly:
            assert refused, (text, values, peak)
        else:
            assert not refused, (text, values, peak)
