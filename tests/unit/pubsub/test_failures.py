"""A failure that repeats is logged once, then counted."""

from __future__ import annotations

from typing import Any

from tradegraph.pubsub.failures import RepeatedFailure


class Recorder:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def error(self, event: str, **fields: Any) -> None:
        self.lines.append(("error", event, fields))

    def warning(self, event: str, **fields: Any) -> None:
        self.lines.append(("warning", event, fields))

    def info(self, event: str, **fields: Any) -> None:
        self.lines.append(("info", event, fields))


def test_the_same_failure_is_logged_once_then_summarised_when_it_ends() -> None:
    recorder = Recorder()
    failures = RepeatedFailure("publish failed", recorder)
    for _ in range(1000):
        failures.failed(ConnectionError("Connection refused"), channel="quotes.X")
    assert [line[0] for line in recorder.lines] == ["error"]
    assert isinstance(recorder.lines[0][2]["exc_info"], ConnectionError)
    failures.recovered()
    assert recorder.lines[-1][0] == "info"  # the summary: how often it happened
    assert recorder.lines[-1][2]["repeated"] == 999
    assert failures.total == 1000
    failures.recovered()  # nothing ongoing: nothing logged
    assert len(recorder.lines) == 2


def test_a_different_failure_is_logged_again() -> None:
    recorder = Recorder()
    failures = RepeatedFailure("publish failed", recorder)
    failures.failed(ConnectionError("Connection refused"))
    failures.failed(ConnectionError("Connection refused"))
    failures.failed(TimeoutError("timed out"))
    assert [(kind, fields.get("repeated")) for kind, _, fields in recorder.lines] == [
        ("error", None),
        ("warning", 1),  # the first one's summary
        ("error", None),
    ]
