"""Fixtures shared by the integration tests that run the service with its workers."""

from tests.integration.dialer_service import dialer, redis_db

__all__ = ["dialer", "redis_db"]
