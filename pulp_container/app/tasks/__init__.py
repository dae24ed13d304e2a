from .synchronize import synchronize  # noqa: F401
