"""Docker SDK helpers for building images: look up, run, build; SDK errors are converted here."""

from __future__ import annotations

import collections
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests
from docker.models.images import Image

from runner.errors import EnvironmentProblem, ImageBuildError

DOCKER_FIX = "run scripts/ensure-docker (as root) or start your Docker engine"
TAIL_LINES = 15
# The builder colours a failing step's stderr; the escapes would show up as noise in error messages.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SHOWN_STEP = re.compile(r"^Step \d+/\d+ : (FROM|RUN|COPY) ")

Progress = Callable[[str], None]
DockerFailure = (docker.errors.DockerException, requests.RequestException)


def get_image(client: docker.DockerClient, ref: str) -> Image | None:
    """The local image `ref` (a tag or an ID), or None when the engine has no such image."""
    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound:
        return None
    except DockerFailure as exc:
        raise EnvironmentProblem(
            f"the Docker engine failed to look up image {ref}: {exc}", DOCKER_FIX
        ) from exc


def remove_quietly(client: docker.DockerClient, image_id: str) -> None:
    """Remove an image the runner replaced; left alone when something still uses it."""
    try:
        client.images.remove(image_id)
    except DockerFailure:
        pass


def labels_of(image: Image) -> dict[str, str]:
    """The image's labels (an empty dict when it has none)."""
    labels = image.attrs.get("Config", {}).get("Labels") or {}
    return {str(k): str(v) for k, v in labels.items()}


def run_in_image(client: docker.DockerClient, image: str, argv: list[str], what: str) -> str:
    """Run `argv` in a throwaway container of `image` without network; its stdout, or ImageBuildError."""
    try:
        output = client.containers.run(
            image, argv, remove=True, network_disabled=True, stdout=True, stderr=True, entrypoint=[]
        )
    except docker.errors.ContainerError as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else str(exc.stderr)
        raise ImageBuildError(
            f"{what} failed (exit {exc.exit_status}):\n{tail(stderr.splitlines())}"
        ) from exc
    except DockerFailure as exc:
        raise ImageBuildError(f"{what} failed: {exc}") from exc
    return output.decode(errors="replace") if isinstance(output, bytes) else str(output)


def build_image(
    client: docker.DockerClient,
    context: Path,
    *,
    what: str,
    buildargs: Mapping[str, str],
    progress: Progress,
    tag: str | None = None,
    target: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> str:
    """Build the Dockerfile in `context` with the classic builder; the new image's ID, or ImageBuildError."""
    last = BuildOutput()
    image_id = ""
    try:
        stream = client.api.build(
            path=str(context),
            tag=tag,
            target=target,
            buildargs=dict(buildargs),
            labels=dict(labels or {}),
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
            timeout=None,
        )
        for chunk in stream:
            image_id = _follow(chunk, what, last, progress) or image_id
    except DockerFailure as exc:
        raise ImageBuildError(f"{what} failed: {exc}\n{tail(last)}") from exc
    if not image_id:
        raise ImageBuildError(f"{what} finished without naming an image:\n{tail(last)}")
    return image_id


class BuildOutput:
    """The build's last output lines; a line the engine sent in several chunks is one line."""

    def __init__(self) -> None:
        self.lines: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self.partial = ""

    def feed(self, text: str) -> list[str]:
        """Take a chunk of output; the lines it completed."""
        *complete, self.partial = (self.partial + text).split("\n")
        done = [_ANSI.sub("", line).rstrip() for line in complete if line.strip()]
        self.lines.extend(done)
        return done

    def __iter__(self) -> Iterator[str]:
        yield from self.lines
        if self.partial.strip():
            yield _ANSI.sub("", self.partial).rstrip()


def _follow(chunk: dict[str, Any], what: str, last: BuildOutput, progress: Progress) -> str | None:
    if "error" in chunk:
        raise ImageBuildError(f"{what} failed: {str(chunk['error']).strip()}\n{tail(last)}")
    aux = chunk.get("aux")
    if isinstance(aux, dict) and "ID" in aux:
        return str(aux["ID"])
    for line in last.feed(str(chunk.get("stream", ""))):
        if line.startswith("Step ") and _SHOWN_STEP.search(line):
            progress(f"  {line.strip()[:160]}")
    return None


def pull_with_limit(client: docker.DockerClient, repository: str, tag: str, read_timeout_s: float) -> str:
    """Pull `repository:tag`, giving up after `read_timeout_s` of silence; '' on success, else why not."""
    api = client.api
    # The SDK's pull() waits without a time limit; a registry that never answers would hang us.
    url = f"{api.base_url}/v{api.api_version}/images/create"
    try:
        response = api.post(
            url, params={"fromImage": repository, "tag": tag}, stream=True, timeout=(10, read_timeout_s)
        )
        if response.status_code >= 400:
            return _api_message(response.text)
        for raw in response.iter_lines():
            message = json.loads(raw) if raw else {}
            if "error" in message:
                return str(message["error"]).strip()
    except requests.Timeout:
        return f"no registry answered within {read_timeout_s:.0f} s"
    except (requests.RequestException, ValueError) as exc:
        return str(exc)
    return ""


def _api_message(body: str) -> str:
    try:
        return str(json.loads(body).get("message", body)).strip()
    except ValueError:
        return body.strip()


def tail(lines: Iterable[str], count: int = TAIL_LINES) -> str:
    """The last `count` lines, indented, for an error message."""
    kept = list(collections.deque((line for line in lines if line.strip()), maxlen=count))
    return "\n".join(f"    | {line}" for line in kept) if kept else "    (no output)"
