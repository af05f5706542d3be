"""The program that runs inside every job container; standard library only, and Python 3.8 compatible.

The engine mounts this folder read-only at `/opt/applet-runner/launcher` and starts the container with
`container_command()`:

    python3 -I -c "import sys; sys.path.insert(0, '/opt/applet-runner'); from launcher._main import main; ..."

(`-I` keeps the job's PYTHON* variables and user site-packages away from the launcher, and nothing is
added to the job's own environment; `PYTHONPATH=/opt/applet-runner python3 -m launcher` works too.)

Container layout:

    /opt/applet-runner/applet/   read-only: code.sh or code.py, optionally resources.tar
    /opt/applet-runner/input/    read-only: job_input.json (written by the engine)
    /opt/applet-runner/job/      read-write, the only host folder the job can write: the launcher writes
                                 output.json or error.json here, and bash-vars.sh for bash jobs (the
                                 engine reads the two documents carefully: the job can change them too)
    /home/dnanexus               HOME and working directory of the job

Environment: DX_JOB_ID, DX_APISERVER_HOST/PORT/PROTOCOL, DX_SECURITY_CONTEXT, DX_WORKSPACE_ID,
DX_PROJECT_CONTEXT_ID (passed on to the job), RUNNER_FUNCTION (entry point, default `main`) and
RUNNER_INTERPRETER (`bash` or `python3`), which the job does not see; RUNNER_DEBUG_ON (comma-separated
failure reasons): when the job fails with one of them, the launcher announces a debug hold to the engine
(POST /runner/debugHold) and keeps the container up until it is stopped.

Optionally RUNNER_API_SOCKET, the path of the engine's Unix socket in a folder mounted read-only (say at
API_DIR): the launcher then serves the API on 127.0.0.1:DX_APISERVER_PORT inside the container, so that a
job with no network at all (`--network none`, DX_APISERVER_HOST=127.0.0.1) still reaches the engine.

Optionally RUNNER_HTTPS_PORTS, the job's httpsApp ports: the launcher serves each on a Unix socket in the job
folder for the engine's HTTPS proxy (`_https.py`).

Outside a container (the local backend: jobs as host processes) the paths above are parameters, read from
the environment with the container paths as defaults: RUNNER_JOB_HOME (HOME), RUNNER_JOB_DIR,
RUNNER_APPLET_DIR, RUNNER_INPUT_DIR, RUNNER_RESOURCES_ROOT (where resources.tar is unpacked, `/` in a
container) and RUNNER_CGROUP_ROOT (the job's own cgroup, for its process limit).
"""

from __future__ import annotations

import os

ROOT = "/opt/applet-runner"
LAUNCHER_DIR = ROOT + "/launcher"
APPLET_DIR = ROOT + "/applet"
JOB_DIR = ROOT + "/job"
INPUT_DIR = ROOT + "/input"
HOME_DIR = "/home/dnanexus"

BASH_CODE = "code.sh"
PYTHON_CODE = "code.py"
RESOURCES_TAR = "resources.tar"
JOB_INPUT = "job_input.json"
OUTPUT = "output.json"
ERROR = "error.json"
BASH_VARS = "bash-vars.sh"

ENV_FUNCTION = "RUNNER_FUNCTION"
ENV_INTERPRETER = "RUNNER_INTERPRETER"
ENV_API_SOCKET = "RUNNER_API_SOCKET"
ENV_DEBUG_ON = "RUNNER_DEBUG_ON"
# "1": serve dxpy's log sockets at /opt/dnanexus/log (only inside a job container).
ENV_LOG_SOCKETS = "RUNNER_LOG_SOCKETS"
API_DIR = ROOT + "/api"
# The path parameters of a launcher running outside a container (see the module docstring).
ENV_HOME_DIR = "RUNNER_JOB_HOME"
ENV_JOB_DIR = "RUNNER_JOB_DIR"
ENV_APPLET_DIR = "RUNNER_APPLET_DIR"
ENV_INPUT_DIR = "RUNNER_INPUT_DIR"
ENV_RESOURCES_ROOT = "RUNNER_RESOURCES_ROOT"
ENV_CGROUP_ROOT = "RUNNER_CGROUP_ROOT"
# The httpsApp ports (`443,8080`): the launcher serves each to the engine's proxy on a socket in JOB_DIR.
ENV_HTTPS_PORTS = "RUNNER_HTTPS_PORTS"
# A pooled container's launcher waits on this FIFO (in the slot's folder, mounted read-only) for its job.
POOL_FIFO = ROOT + "/pool/assign"


def https_socket_name(port: int) -> str:
    """The file name, in JOB_DIR, of the socket that carries the app's port `port` to the engine's proxy."""
    return f"https-{port}.sock"


# The exit status of the launcher when it could not run the job at all (error.json says why).
LAUNCHER_FAILED = 1


def host_path() -> str:
    """The folder on the host to mount read-only at LAUNCHER_DIR."""
    return os.path.dirname(os.path.abspath(__file__))


def code_file(interpreter: str) -> str:
    """The file name of the applet script for an interpreter: `code.sh` or `code.py`."""
    return PYTHON_CODE if interpreter.startswith("python") else BASH_CODE


def container_command(python: str = "python3", root: str = ROOT) -> list[str]:
    """The command of a job container: start the launcher found in `root`/launcher (LAUNCHER_DIR)."""
    program = (
        f"import sys; sys.path.insert(0, {root!r}); "
        "from launcher._main import main; sys.exit(main())"
    )
    return [python, "-I", "-c", program]


def waiting_command(fifo: str = POOL_FIFO, python: str = "python3", root: str = ROOT) -> list[str]:
    """The command of a pooled container: the launcher, imported, waits on `fifo` for its job (`_waiting.py`)."""
    program = (
        f"import sys; sys.path.insert(0, {root!r}); "
        f"from launcher._waiting import wait_and_run; sys.exit(wait_and_run({fifo!r}))"
    )
    return [python, "-I", "-c", program]
