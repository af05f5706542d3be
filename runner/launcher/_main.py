"""The launcher's steps: prepare HOME, unpack resources, run the entry point, collect output or error."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from . import (
    APPLET_DIR,
    BASH_VARS,
    ENV_API_SOCKET,
    ENV_APPLET_DIR,
    ENV_CGROUP_ROOT,
    ENV_FUNCTION,
    ENV_HOME_DIR,
    ENV_HTTPS_PORTS,
    ENV_INPUT_DIR,
    ENV_INTERPRETER,
    ENV_JOB_DIR,
    ENV_LOG_SOCKETS,
    ENV_RESOURCES_ROOT,
    ERROR,
    HOME_DIR,
    INPUT_DIR,
    JOB_DIR,
    JOB_INPUT,
    LAUNCHER_FAILED,
    RESOURCES_TAR,
    code_file,
)
from ._bash import ENTRY_POINT_NAME, bash_argv, bash_vars, has_file_inputs, wrapper_script
from ._child import run_child
from ._dstat import start_resource_logger
from ._dxlog import start_log_sockets
from ._forward import start_forwarder
from ._hold import hold_if_listed
from ._https import parse_ports, serve_port
from ._outcome import LineTail, atomic_write, collect, error_document
from ._pids import CGROUP_ROOT, limit_hit, refused_forks
from .bundles import BundleError, load_planted, staged_for, unpack_entries

INTERPRETERS = ("bash", "python3")


class LaunchError(Exception):
    """The job could not be started; the message becomes its AppInternalError."""


def _say(message: str) -> None:
    sys.stderr.write(f"[applet-runner] {message}\n")
    sys.stderr.flush()


def _job_environment(home: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("RUNNER_")}
    env["HOME"] = home
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    return env


def _forward_api() -> None:
    socket_path = os.environ.get(ENV_API_SOCKET)
    if not socket_path:
        return
    port = os.environ.get("DX_APISERVER_PORT", "")
    if not port.isdigit():
        raise LaunchError(f"{ENV_API_SOCKET} is set but DX_APISERVER_PORT is {port!r}, not a port number")
    try:
        start_forwarder(socket_path, int(port))
    except OSError as exc:
        raise LaunchError(f"cannot serve the API on 127.0.0.1:{port}: {exc}") from None


def _serve_https(job_dir: str) -> None:
    text = os.environ.get(ENV_HTTPS_PORTS)
    if not text:
        return
    try:
        ports = parse_ports(text)
    except ValueError:
        raise LaunchError(f"{ENV_HTTPS_PORTS} is {text!r}, not a list of ports") from None
    for port in ports:
        try:
            serve_port(job_dir, port)
        except OSError as exc:
            raise LaunchError(f"cannot serve the HTTPS app's port {port} to the engine: {exc}") from None


def _prepare_home(home: str, input_dir: str) -> None:
    os.makedirs(home, exist_ok=True)
    os.chdir(home)
    # A restarted job may find its predecessor's documents in a kept home folder.
    for name in ("job_output.json", "job_error.json"):
        try:
            os.unlink(os.path.join(home, name))
        except FileNotFoundError:
            pass
    source = os.path.join(input_dir, JOB_INPUT)
    if not os.path.exists(source):
        raise LaunchError(f"the engine wrote no {source}")
    shutil.copyfile(source, os.path.join(home, JOB_INPUT))


def _unpack_resources(applet_dir: str, root: str = "/") -> None:
    bundle = os.path.join(applet_dir, RESOURCES_TAR)
    if not os.path.exists(bundle):
        return
    os.makedirs(root, exist_ok=True)
    # GNU tar, as on the platform; --no-overwrite-dir keeps the modes of existing folders such as /tmp.
    argv = ["tar", "-x", "-f", bundle, "-C", root, "--no-overwrite-dir"]
    result = subprocess.run(argv, check=False, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        output = result.stdout.decode("utf-8", errors="replace").strip()
        raise LaunchError(f"unpacking resources.tar at {root} failed (tar exit {result.returncode}): {output}")


def _unpack_staged(function: str) -> None:
    """The image's bundledDepends with `stages` naming this entry point (the others are in the image at /)."""
    entries = staged_for(function)
    if not entries:
        return
    try:
        unpack_entries(entries, load_planted(os.path.dirname(str(entries[0]["path"]))), sys.stderr)
    except BundleError as exc:
        raise LaunchError(f"bundledDepends: {exc}") from None


def _read_input(home: str) -> dict[str, object]:
    try:
        with open(os.path.join(home, JOB_INPUT), "rb") as stream:
            document = json.loads(stream.read().decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise LaunchError(f"cannot read {JOB_INPUT}: {exc}") from None
    if not isinstance(document, dict):
        raise LaunchError(f"{JOB_INPUT} must hold a JSON object")
    return document


def _bash_definitions(home: str, env: dict[str, str]) -> bytes:
    job_input = _read_input(home)
    if not has_file_inputs(job_input):
        text, warnings = bash_vars(job_input, env)
        for warning in warnings:
            _say(warning)
        return text.encode("utf-8")
    # File inputs need their names from the API: dxpy's own helper asks for them.
    result = subprocess.run(
        ["dx-print-bash-vars"], check=False, cwd=home, env=env, stdin=subprocess.DEVNULL, capture_output=True
    )
    sys.stderr.buffer.write(result.stderr)
    sys.stderr.flush()
    if result.returncode != 0:
        lines = result.stderr.decode("utf-8", errors="replace").strip().splitlines()[-10:]
        raise LaunchError("dx-print-bash-vars failed (exit {}): {}".format(result.returncode, "\n".join(lines)))
    return result.stdout


def _command(
    interpreter: str, function: str, env: dict[str, str], home: str, job_dir: str, applet_dir: str
) -> list[str]:
    code = os.path.join(applet_dir, code_file(interpreter))
    if not os.path.exists(code):
        raise LaunchError(f"the applet script {code} is missing")
    if interpreter == "python3":
        # dxpy.run() asks the API for the job's function and input itself.
        return ["python3", code]
    if not ENTRY_POINT_NAME.match(function):
        raise LaunchError(f"entry point {function!r} cannot be a bash function name")
    vars_path = os.path.join(job_dir, BASH_VARS)
    atomic_write(vars_path, _bash_definitions(home, env))
    return bash_argv(wrapper_script(vars_path, code, os.path.join(home, "job_error.json")), function)


def main(home: str | None = None, job_dir: str | None = None, applet_dir: str | None = None,
         input_dir: str | None = None) -> int:
    """Run the job the environment describes; the job's exit status (LAUNCHER_FAILED if it never ran).

    A path not given is read from the environment (RUNNER_JOB_HOME...), else it is the container's.
    """
    home = home or os.environ.get(ENV_HOME_DIR) or HOME_DIR
    job_dir = job_dir or os.environ.get(ENV_JOB_DIR) or JOB_DIR
    applet_dir = applet_dir or os.environ.get(ENV_APPLET_DIR) or APPLET_DIR
    input_dir = input_dir or os.environ.get(ENV_INPUT_DIR) or INPUT_DIR
    cgroup_root = os.environ.get(ENV_CGROUP_ROOT) or CGROUP_ROOT
    function = os.environ.get(ENV_FUNCTION) or "main"
    interpreter = os.environ.get(ENV_INTERPRETER) or "bash"
    env = _job_environment(home)
    tail = LineTail()
    try:
        if interpreter not in INTERPRETERS:
            raise LaunchError(f"unsupported interpreter {interpreter!r}; expected bash or python3")
        _forward_api()
        _serve_https(job_dir)
        _prepare_home(home, input_dir)
        _unpack_staged(function)
        _unpack_resources(applet_dir, os.environ.get(ENV_RESOURCES_ROOT) or "/")
        argv = _command(interpreter, function, env, home, job_dir, applet_dir)
        if os.environ.get(ENV_LOG_SOCKETS) == "1":
            start_log_sockets()
    except (LaunchError, OSError) as exc:
        _say(f"could not start the job: {exc}")
        document = error_document(f"applet-runner could not start the job: {exc}")
        atomic_write(os.path.join(job_dir, ERROR), (json.dumps(document) + "\n").encode())
        hold_if_listed(document)
        return LAUNCHER_FAILED
    start_resource_logger(env, home)
    refused_before = refused_forks(cgroup_root)
    status = run_child(argv, env, home, tail)
    error = collect(home, job_dir, status, list(tail.lines), pids=limit_hit(refused_before, cgroup_root))
    hold_if_listed(error)
    return status
