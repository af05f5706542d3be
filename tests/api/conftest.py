"""Fixtures shared by the API tests: `env` serves the data routes on a fresh store (see `_data_env`), `api`
every route on a fresh world of projects, job trees and tokens (see `_full_env`)."""

from __future__ import annotations

from tests.api._data_env import env
from tests.api._full_env import api

__all__ = ["api", "env"]
