"""A FastAPI app holding only the REST routers, for tests that need the API without the engine."""

from __future__ import annotations

from fastapi import FastAPI

from app.api.body_limits import guard_requests
from app.api.routers import REST_ROUTERS
from app.db.session import Database
from app.settings import Settings

TEST_SECRET = bytes(range(32))
TEST_PUBLIC_URL = "https://velox.example.com"


def build_api_app(database: Database) -> FastAPI:
    """The REST API over ``database``, wired the way the service's app factory wires it."""
    api = FastAPI(title="Velox API (test)")
    guard_requests(api)
    api.state.database = database
    api.state.settings = Settings(secret_key=TEST_SECRET.hex(), public_url=TEST_PUBLIC_URL)
    for router in REST_ROUTERS:
        api.include_router(router)
    return api
