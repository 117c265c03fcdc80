"""Unit tests mirror the package (tests/unit/<package>/test_<module>.py): one module's rules at a
time, with no server and no HTTP. Most are plain functions; the async ones run on
pytest-asyncio's loop, and tests/unit/store drives the in-process store emulation directly.
End-to-end tests, which start real servers, live in tests/e2e (their fixtures: its conftest)."""
