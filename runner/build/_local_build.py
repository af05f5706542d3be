"""An applet build under the local backend: no image, the stored applet folder and the job venv only.

execDepends: `apt` ones are refused (the local backend runs jobs as host processes and cannot install system
packages); `pip`/`pip3` ones are installed from the wheel cache into the applet's own folder

    $RUNNER_HOME/local-env/pip/<applet-id>/     (`pip install --target`; on the job's PYTHONPATH)

so two applets never see each other's packages and the shared job venv stays as built. bundledDepends and
assetDepends need an image too: refused with a clear error.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from runner.build import wheels
from runner.build._applet_image import AppletImage
from runner.build.local_env import ENV_DIR, ensure_local_env, host_target
from runner.errors import ImageBuildError
from runner.spec.dxapp import Dxapp
from runner.spec.run_spec import ExecDepend

Progress = Callable[[str], None]
LOCAL_IMAGE = "local"
PIP_DIR = "pip"


def pip_folder(home: Path, applet_id: str) -> Path:
    """Where the pip execDepends of `applet_id` are installed for the local backend."""
    return home / ENV_DIR / PIP_DIR / applet_id


def refuse_unsupported(dxapp: Dxapp, has_bundles: bool) -> None:
    """ImageBuildError naming what the local backend cannot provide: apt packages, bundles."""
    apt = [d.name for d in dxapp.run_spec.exec_depends if d.package_manager == "apt"]
    if apt:
        raise ImageBuildError(
            f"runSpec.execDepends: apt package(s) {', '.join(apt)} cannot be installed: the local backend runs "
            "jobs as processes of this machine and cannot install system packages; install them on this "
            "machine yourself and remove them from execDepends, or use the docker backend")
    if has_bundles:
        raise ImageBuildError(
            "runSpec.bundledDepends / assetDepends need an image, which the local backend does not build; "
            "use the docker backend")


def local_applet(dxapp: Dxapp, home: Path, applet_id: str, progress: Progress) -> AppletImage:
    """The no-image build: the job venv made if needed, the applet's pip execDepends installed."""
    ensure_local_env(home, progress)
    pip = [_requirement(d) for d in dxapp.run_spec.exec_depends if d.package_manager in ("pip", "pip3")]
    if pip and not (pip_folder(home, applet_id) / ".ready").is_file():
        _install_pip(home, applet_id, pip, progress)
    return AppletImage(LOCAL_IMAGE, LOCAL_IMAGE, built=False)


def _requirement(depend: ExecDepend) -> str:
    return f"{depend.name}=={depend.version}" if depend.version else depend.name


def _install_pip(home: Path, applet_id: str, requirements: Sequence[str], progress: Progress) -> None:
    target = host_target()
    wheels.download_packages(home, target, list(requirements), progress)
    folder = pip_folder(home, applet_id)
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".pip-", dir=folder.parent))
    try:
        links = ["--find-links", str(home / "wheels" / target.python_tag)]
        python = ensure_local_env(home, progress) / "bin" / "python3"
        result = subprocess.run(
            [str(python), "-m", "pip", "install", "--no-cache-dir", "--no-index", "--target", str(scratch),
             *links, *requirements, "--disable-pip-version-check", "--no-input"],
            check=False, capture_output=True, text=True)
        if result.returncode != 0:
            lines = (result.stdout + result.stderr).strip().splitlines()[-10:]
            raise ImageBuildError(f"installing the pip execDepends {' '.join(requirements)} failed:\n"
                                  + "\n".join(lines))
        (scratch / ".ready").write_text(" ".join(requirements) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        scratch.rename(folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
