"""build_applet on the real engine: stable IDs, image reuse, execDepends installed, errors naming the package."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from runner.build import _applet_image
from runner.build.applet import BuiltApplet, build_applet
from runner.build.images import DEFAULT_RELEASE, runtime_image_tag
from runner.errors import SpecError
from runner.spec.dxapp import load_dxapp

pytestmark = pytest.mark.docker
SCRIPT = 'main() {\n  echo "hello"\n}\n'


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runner-home")


def applet_folder(root: Path, name: str, depends: list[dict[str, Any]] | None = None, script: str = SCRIPT) -> Path:
    folder = root / name
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "code.sh").write_text(script)
    (folder / "resources" / "usr" / "local" / "bin").mkdir(parents=True)
    tool = folder / "resources" / "usr" / "local" / "bin" / "say-hi"
    tool.write_text("#!/bin/sh\necho hi\n")
    tool.chmod(0o755)
    run_spec: dict[str, Any] = {"interpreter": "bash", "file": "src/code.sh", "distribution": "Ubuntu",
                                "release": DEFAULT_RELEASE}
    if depends:
        run_spec["execDepends"] = depends
    document = {"name": name, "runSpec": run_spec, "access": {"network": ["*"]} if depends else {}}
    (folder / "dxapp.json").write_text(json.dumps(document, indent=2))
    return folder


def build(folder: Path, home: Path, client: docker.DockerClient) -> BuiltApplet:
    return build_applet(folder, home, client, progress=lambda message: None)


def run_in(client: docker.DockerClient, image: str, script: str) -> str:
    output = client.containers.run(image, ["bash", "-c", script], remove=True, network_disabled=True)
    assert isinstance(output, bytes)
    return output.decode()


def test_the_same_folder_gives_the_same_applet_and_a_changed_script_a_new_one(
    tmp_path: Path, home: Path, client: docker.DockerClient
) -> None:
    folder = applet_folder(tmp_path, "plain")
    first, second = build(folder, home, client), build(folder, home, client)
    assert first.applet_id == second.applet_id and first.applet_id.startswith("applet-")
    assert first.folder == home / "applets" / first.applet_id
    assert sorted(p.name for p in first.folder.iterdir()) == ["code.sh", "dxapp.json", "resources.tar"]
    assert first.code_path.read_text() == SCRIPT
    assert (first.folder / "dxapp.json").read_bytes() == (folder / "dxapp.json").read_bytes()
    assert first.resources_tar is not None and second.resources_tar == first.resources_tar
    assert (first.image_tag, first.image_built) == (runtime_image_tag(DEFAULT_RELEASE), False)

    (folder / "src" / "code.sh").write_text(SCRIPT.replace("hello", "bonjour"))
    changed = build(folder, home, client)
    assert changed.applet_id != first.applet_id
    assert changed.image_id == first.image_id
    assert changed.resources_tar is not None
    assert changed.resources_tar.read_bytes() == first.resources_tar.read_bytes()


def test_exec_depends_are_installed_once_and_the_image_reused(
    tmp_path: Path, home: Path, client: docker.DockerClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    depends: list[dict[str, Any]] = [{"name": "tree"}, {"name": "six", "package_manager": "pip3", "version": "1.16.0", "stages": ["main"]}]
    folder = applet_folder(tmp_path, "with-depends", depends)
    runtime_id = client.images.get(runtime_image_tag(DEFAULT_RELEASE)).id or ""
    expected_tag = _applet_image.image_tag(DEFAULT_RELEASE, runtime_id, load_dxapp(folder).run_spec.exec_depends)
    # Removed first, so that every run really builds (the tag is the same on every run of this test).
    with contextlib.suppress(docker.errors.ImageNotFound):
        client.images.remove(expected_tag)
    first = build(folder, home, client)
    assert first.image_built and first.image_tag == expected_tag
    assert any("stages" in note for note in first.notes)
    output = run_in(client, first.image_tag, "tree --version && python3 -c 'import six; print(six.__version__)'")
    assert "tree v" in output and "1.16.0" in output

    def no_build(*args: object, **kwargs: object) -> str:
        raise AssertionError("the image was built again")

    monkeypatch.setattr(_applet_image, "_build", no_build)
    (folder / "src" / "code.sh").write_text(SCRIPT + "# changed\n")
    again = build(folder, home, client)
    assert not again.image_built and again.image_id == first.image_id and again.applet_id != first.applet_id


def test_a_missing_apt_package_is_named(tmp_path: Path, home: Path, client: docker.DockerClient) -> None:
    folder = applet_folder(tmp_path, "bad-apt", [{"name": "no-such-package-runner-test"}])
    with pytest.raises(SpecError, match=r"runSpec.execDepends\[0\]: apt package no-such-package-runner-test "
                       "does not exist in Ubuntu 24.04"):
        build(folder, home, client)


def test_a_missing_pip_package_is_named(tmp_path: Path, home: Path, client: docker.DockerClient) -> None:
    folder = applet_folder(tmp_path, "bad-pip", [{"name": "six", "package_manager": "pip", "version": "0.0.0.404"}])
    with pytest.raises(SpecError, match=r"runSpec.execDepends\[0\]: pip package six==0.0.0.404 has no wheel"):
        build(folder, home, client)
