"""Fixtures shared by the API tests: `env` serves the data routes on a fresh store (see `_data_env`)."""

from __future__ import annotations

from tests.api._data_env import env

__all__ = ["env"]
