"""Plain helpers that tests import (``from tests.helpers.images import synthetic_rgb``).

Fixtures stay in the ``conftest.py`` files; anything a test module imports lives here.
"""
