"""Where the runner keeps its state, and the settings that say so.

Precedence: command-line flag > environment (`RUNNER_...`) > packaged default.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_DIR_NAME = "applet-runner"


def runner_home() -> Path:
    """The runner's state folder: `$RUNNER_HOME`, else `$XDG_DATA_HOME/applet-runner`, else `~/.local/share/applet-runner`."""
    explicit = os.environ.get("RUNNER_HOME")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / APP_DIR_NAME


def ensure_runner_home() -> Path:
    """Create the state folder (mode 0700: it will hold credentials) and return it."""
    home = runner_home()
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    return home
