"""The launcher of a pooled container: started ahead of its job, it waits for the job's environment, then runs it.

The engine starts a pooled container with `waiting_command(fifo)`. Everything the launcher needs is imported
first, so that neither Python's start nor its imports are on the job's path; then it blocks (no CPU, no polling)
opening and reading the FIFO in the engine-owned slot folder (mounted read-only) until the engine writes the
assignment (`{"env": {...}}`, JSON) and closes its end. The job then runs exactly as `main()` runs it.

An end of file with nothing written means the engine went away (it held the write end): nothing to run. The
launcher says so in error.json (if the slot had been given to a job, that job fails with the reason) and exits.
"""

from __future__ import annotations

import json
import os
import sys

from . import ERROR, JOB_DIR, LAUNCHER_FAILED
from ._main import main
from ._outcome import atomic_write, error_document

NO_ASSIGNMENT = "the engine went away before it handed a job to this pooled container"


def read_assignment(fifo: str) -> dict[str, str] | None:
    """The environment the engine writes to `fifo`; None at an end of file with nothing written."""
    with open(fifo, "rb") as stream:  # blocks until the engine holds the write end
        data = stream.read()  # blocks until the engine has written and closed it
    if not data:
        return None
    document = json.loads(data.decode("utf-8"))
    env = document.get("env") if isinstance(document, dict) else None
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise ValueError("the assignment holds no environment of strings")
    return env


def wait_and_run(fifo: str) -> int:
    """Wait for the job's environment on `fifo`, then run the job; its exit status."""
    try:
        env = read_assignment(fifo)
    except (OSError, ValueError) as exc:
        return _failed(f"cannot read the job's assignment from {fifo}: {exc}")
    if env is None:
        return _failed(NO_ASSIGNMENT)
    os.environ.update(env)
    return main()


def _failed(message: str) -> int:
    sys.stderr.write(f"[applet-runner] {message}\n")
    document = error_document(f"applet-runner could not start the job: {message}")
    try:
        atomic_write(os.path.join(JOB_DIR, ERROR), (json.dumps(document) + "\n").encode())
    except OSError:
        pass
    return LAUNCHER_FAILED
