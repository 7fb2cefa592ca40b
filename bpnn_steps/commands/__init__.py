"""CLI commands beyond solve/list/new, one module each, each with register(app)."""
