"""The REST API: routers that parse, authorize, call the database layer and shape responses."""
