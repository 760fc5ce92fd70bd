"""The database layer: models, sessions and the queries every other package goes through."""
