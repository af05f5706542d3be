"""A container's own fields, the jobs still running in it, and its destruction, in a real store."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from runner.spec.ids import new_id
from runner.spec.job_states import JobState
from runner.store.db import Database
from runner.store.files import BlobWriter, add_part, begin_close, blob_path, finish_close, release_blobs
from runner.store.jobs import insert_job, transition
from runner.store.objects import (
    ObjectNotFound,
    clone_objects,
    create_container,
    create_object,
    get_container,
    get_object,
    object_containers,
)
from runner.store.projects import active_jobs, destroy_container, list_projects, update_container


def _file(db: Database, home: Path, project: str, data: bytes, *, close: bool = True) -> str:
    file_id = create_object(db, "file", project, name="f")["id"]
    writer = BlobWriter(home)
    writer.write(data)
    add_part(db, home, file_id, 1, writer)
    if close:
        begin_close(db, file_id)
        finish_close(db, home, file_id)
    return str(file_id)


def test_update_merges_fields_and_none_unsets(db: Database) -> None:
    project = create_container(db, "project", "p", {"summary": "s", "allowedExecutables": ["applet-x"]})
    update_container(db, project, name="q", changes={"protected": True, "allowedExecutables": None})
    shown = get_container(db, project)
    assert (shown["name"], shown["summary"], shown["protected"], "allowedExecutables" in shown) == (
        "q", "s", True, False)
    with pytest.raises(ObjectNotFound):
        update_container(db, "project-000000000000000000000000", name="x")


def test_active_jobs_are_those_not_ended_in_the_project_or_workspace(db: Database) -> None:
    project, workspace = create_container(db, "project", "p"), create_container(db, "container", "w")
    jobs = []
    for end in (None, JobState.DONE):
        job_id = new_id("job")
        insert_job(db, {"id": job_id, "rootExecution": job_id, "project": project, "workspace": workspace})
        if end is not None:
            for state in (JobState.RUNNABLE, JobState.RUNNING, end):
                transition(db, job_id, state)
        jobs.append(job_id)
    assert active_jobs(db, project) == [jobs[0]]
    assert active_jobs(db, workspace) == [jobs[0]]
    assert active_jobs(db, create_container(db, "project", "empty")) == []


def test_destroy_deletes_what_only_it_holds(db: Database, home: Path) -> None:
    doomed, kept = create_container(db, "project", "doomed"), create_container(db, "project", "kept")
    alone, shared = _file(db, home, doomed, b"alone"), _file(db, home, doomed, b"shared")
    still_open = _file(db, home, doomed, b"parts", close=False)
    clone_objects(db, [shared], doomed, kept)
    blobs = destroy_container(db, doomed)
    assert sorted(blobs) == sorted(hashlib.sha256(d).hexdigest() for d in (b"alone", b"shared", b"parts"))
    assert release_blobs(db, home, blobs) == [b for b in blobs if b != hashlib.sha256(b"shared").hexdigest()]
    assert not blob_path(home, hashlib.sha256(b"alone").hexdigest()).exists()
    assert blob_path(home, hashlib.sha256(b"shared").hexdigest()).exists()
    for gone in (alone, still_open):
        with pytest.raises(ObjectNotFound):
            get_object(db, gone)
    assert object_containers(db, shared) == [kept]
    assert [p["id"] for p in list_projects(db)] == [kept]
    with pytest.raises(ObjectNotFound):
        destroy_container(db, doomed)
