"""`PYTHONPATH=/opt/applet-runner python3 -m launcher`: run the job described by the environment."""

from __future__ import annotations

import sys

from ._main import main

sys.exit(main())
