"""The engine's fixtures (a Runtime on the test database and manual clock, and the operator kit)."""
from tests.engine.conftest import engine_services, kit, runtime  # noqa: F401
