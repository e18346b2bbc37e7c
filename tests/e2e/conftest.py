"""The browser tests read the session's real-data build (the same one the integration tests share)."""

from tests.integration.conftest import shared_build  # noqa: F401  (fixture re-used, built once per session)
