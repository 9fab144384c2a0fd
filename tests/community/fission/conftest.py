from __future__ import annotations

import pytest

from engine.runtime import Runtime


@pytest.fixture
def runtime(services):
    rt = Runtime(services)
    yield rt
    rt.stop()
