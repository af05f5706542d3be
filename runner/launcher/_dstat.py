"""The worker's resource logger: `pcp-dstat` runs from the job's start, as on a DNAnexus worker.

Public applets begin with `kill $(ps aux | grep pcp-dstat | head -n1 | awk '{print $2}')` and then
`/usr/bin/dx-dstat 30`, so the logger must already be there, with a PID lower than anything the job starts.
`dx-dstat` (in the runtime image) puts it in the background and returns; the logger is not the job's and
not the launcher's child (Docker's init reaps it), and it holds neither the job's stderr nor anything the
launcher waits for, so it dies with the container and never delays the job's end or changes its status.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping

DX_DSTAT = "/usr/bin/dx-dstat"
# dx-dstat only validates its argument and starts the logger; this is far more than it needs.
START_TIMEOUT_S = 30.0


def _say(message: str) -> None:
    sys.stderr.write(f"[applet-runner] {message}\n")
    sys.stderr.flush()


def start_resource_logger(env: Mapping[str, str], home: str, program: str = DX_DSTAT) -> bool:
    """Start `pcp-dstat` with dx-dstat's default interval, when the image has dx-dstat; whether it started."""
    if not os.access(program, os.X_OK):
        return False  # an image built before dx-dstat existed: the job runs without the logger
    try:
        result = subprocess.run([program], cwd=home, env=dict(env), stdin=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, timeout=START_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        _say(f"the resource logger did not start ({program}: {exc}); the job runs without it")
        return False
    if result.returncode != 0:
        why = result.stderr.decode("utf-8", errors="replace").strip()
        _say(f"the resource logger did not start ({program} exit {result.returncode}: {why}); "
             "the job runs without it")
        return False
    return True
