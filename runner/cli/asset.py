"""`runner asset build|import|list`: assets (AssetBundle records and their archives), as `dx build_asset` makes them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from runner.cli import _client
from runner.cli._paths import Caller, normalize_folder
from runner.errors import SpecError, UsageError
from runner.spec.dxasset import load_dxasset
from runner.spec.ids import CONTAINER_CLASSES, id_class

EXIT_BAD_INPUT = 3
NONE = "-"


def destination_body(destination: str | None) -> dict[str, str]:
    """`project-xxxx:/folder`, `project-xxxx`, or `/folder` (in the default project) as `{project?, folder?}`."""
    if destination is None:
        return {}
    project, _, folder = destination.rpartition(":") if ":" in destination else ("", "", destination)
    if id_class(destination) in CONTAINER_CLASSES:
        return {"project": destination}
    if project and id_class(project) not in CONTAINER_CLASSES:
        raise UsageError(f"--destination {destination!r}: the part before ':' must be a project ID "
                         f"(project-xxxx), not {project!r}")
    if not project and not folder.startswith("/"):
        raise UsageError(f"--destination {destination!r} must be project-xxxx:/folder or an absolute /folder")
    return {**({"project": project} if project else {}), "folder": normalize_folder(folder or "/")}


def _report(answer: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(answer, indent=2))
        return
    for line in answer.get("log") or ():
        click.echo(line, err=True)
    for note in answer.get("notes") or ():
        click.echo(f"note: {note}", err=True)
    click.echo(f"asset {answer['name']} {answer['properties'].get('version', '')}: record {answer['id']}, "
               f"archive {answer['archive']} ({answer.get('archiveSize')} bytes)", err=True)
    click.echo(answer["id"])


@click.group()
def asset() -> None:
    """Build, import and list assets (AssetBundle records that applets name in runSpec.assetDepends)."""


@asset.command("build")
@click.argument("folder", type=click.Path(path_type=Path), default=Path("."))
@click.option("-d", "--destination", metavar="DEST", help="Where the record and archive go: project-xxxx:/folder "
              "or /folder (default: the default project's root).")
@click.option("--json", "as_json", is_flag=True, help="Print the engine's answer as JSON.")
def build(folder: Path, destination: str | None, as_json: bool) -> None:
    """Build the asset in FOLDER (a dxasset.json, resources/, a Makefile) as `dx build_asset` does; print its ID.

    In a container of the asset's release: install its execDepends, copy resources/ into /, run make, and pack
    what changed into a tar.gz. Exits 3 with every problem when dxasset.json is invalid.
    """
    try:
        load_dxasset(folder)
    except SpecError as exc:
        if as_json:
            problems = [{"path": p.path, "message": p.message} for p in exc.problems]
            click.echo(json.dumps({"valid": False, "problems": problems}, indent=2))
            raise SystemExit(EXIT_BAD_INPUT) from None
        raise
    body = {"source": str(folder.resolve()), **destination_body(destination)}
    with _client.connect() as client:
        # No timeout: the first build installs packages and may build the builder image.
        answer = client.call("/runner/buildAsset", body, timeout_s=None)
    _report(answer, as_json)


@asset.command("import")
@click.argument("archive", type=click.Path(path_type=Path))
@click.option("--name", required=True, help="The asset's name (the record's name).")
@click.option("--version", "version", required=True, help="The asset's version (property `version`).")
@click.option("--as", "record_id", metavar="record-XXXX", help="Create the record under exactly this ID (a "
              "platform asset's), so that a dxapp.json naming it resolves here.")
@click.option("--release", help="The Ubuntu release it was built for (property `release`), e.g. 24.04.")
@click.option("--title", help="Property `title`.")
@click.option("--description", help="Property `description`.")
@click.option("-d", "--destination", metavar="DEST", help="project-xxxx:/folder or /folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the engine's answer as JSON.")
def import_(archive: Path, name: str, version: str, record_id: str | None, release: str | None,
            title: str | None, description: str | None, destination: str | None, as_json: bool) -> None:
    """Register ARCHIVE (a tar, tar.gz or tar.bz2 you already have) as an asset; print the record ID.

    Refused (exit 3) when it is not such an archive, when a member would land outside the folder it is
    unpacked in, or when --as is not a record ID or is already used.
    """
    if not archive.is_file():
        raise UsageError(f"{archive}: no such local file")
    optional = {"id": record_id, "release": release, "title": title, "description": description}
    body = {"archive": str(archive.resolve()), "name": name, "version": version,
            **{k: v for k, v in optional.items() if v is not None}, **destination_body(destination)}
    with _client.connect() as client:
        answer = client.call("/runner/importAsset", body, timeout_s=None)
    _report(answer, as_json)


def find_assets(client: Caller) -> list[dict[str, Any]]:
    """Every AssetBundle record the user sees: name, version, release, record, project, folder, archive size."""
    body: dict[str, Any] = {"class": "record", "type": "AssetBundle",
                            "describe": {"fields": {"name": True, "folder": True, "properties": True,
                                                    "details": True}}}
    found: list[dict[str, Any]] = []
    while True:
        answer = client.call("/system/findDataObjects", body)
        for result in answer["results"]:
            described = result["describe"]
            archive = (described.get("details") or {}).get("archiveFileId") or {}
            archive_id = archive.get("$dnanexus_link") if isinstance(archive, dict) else None
            properties = described.get("properties") or {}
            found.append({"name": described["name"], "version": properties.get("version"),
                          "release": properties.get("release"), "id": result["id"], "project": result["project"],
                          "folder": described.get("folder"), "archive": archive_id,
                          "archiveSize": _size(client, archive_id, result["project"])})
        if not answer.get("next"):
            return sorted(found, key=lambda a: (a["name"], str(a["version"]), a["id"]))
        body["starting"] = answer["next"]


def _size(client: Caller, file_id: Any, project: str) -> int | None:
    if not isinstance(file_id, str):
        return None
    found = client.call("/system/describeDataObjects", {"objects": [{"id": file_id, "project": project}]})
    described = found["results"][0].get("describe") if found["results"] else None
    return described.get("size") if described else None


@asset.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the assets as a JSON array.")
def list_(as_json: bool) -> None:
    """List the assets: name, version, release, record ID and archive size."""
    with _client.connect() as client:
        assets = find_assets(client)
    if as_json:
        click.echo(json.dumps(assets, indent=2))
        return
    rows = [("NAME", "VERSION", "RELEASE", "RECORD", "SIZE")]
    rows += [(a["name"], a["version"] or NONE, a["release"] or NONE, a["id"],
              NONE if a["archiveSize"] is None else str(a["archiveSize"])) for a in assets]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[4])
