"""A FastAPI app holding only the REST routers, for tests that need the API without the engine."""

from __future__ import annotations

from fastapi import FastAPI

from app.api import agents, conversations, phone_numbers
from app.db.session import Database


def build_api_app(database: Database) -> FastAPI:
    """The REST API over ``database``, wired the way the service's app factory wires it."""
    api = FastAPI(title="Velox API (test)")
    api.state.database = database
    for router in (agents.router, conversations.router, phone_numbers.router):
        api.include_router(router)
    return api
