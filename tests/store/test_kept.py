"""An applet removed from its project while its jobs run: kept for them in the real store, then collected."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.spec.ids import new_id
from runner.spec.job_states import JobState
from runner.store.db import Database
from runner.store.fsck import run_fsck
from runner.store.jobs import insert_job, transition
from runner.store.objects import (
    ObjectNotFound,
    clone_objects,
    create_container,
    create_object,
    find_objects,
    get_executable,
    get_object,
    list_folder,
    object_containers,
    remove_folder,
    remove_objects,
)

S = JobState


@pytest.fixture
def project(db: Database) -> str:
    return create_container(db, "project", "p")


def _applet(db: Database, project: str, folder: str = "/") -> str:
    doc = {"runSpec": {"code": "main() { :; }"}, "access": {"network": ["*"]}, "tags": ["t"]}
    return str(create_object(db, "applet", project, name="app", folder=folder, parents=True, state="closed",
                             doc=doc)["id"])


def _job(db: Database, applet: str, root: str | None = None) -> str:
    job_id = new_id("job")
    insert_job(db, {"id": job_id, "rootExecution": root or job_id, "parentJob": root, "applet": applet})
    return job_id


def _run(db: Database, job_id: str) -> None:
    for state in (S.RUNNABLE, S.RUNNING):
        transition(db, job_id, state)


def test_removed_while_a_job_runs_it_is_kept_for_the_job_alone(db: Database, project: str) -> None:
    applet = _applet(db, project, "/tools")
    job = _job(db, applet)
    _run(db, job)
    assert remove_objects(db, project, [applet]) == [applet]
    with pytest.raises(ObjectNotFound):
        get_object(db, applet)
    assert object_containers(db, applet) == []
    assert find_objects(db, ids=[applet]) == [] and find_objects(db, klass="applet") == []
    assert list_folder(db, project, "/tools") == ([], [])
    seen = get_executable(db, applet)  # as the engine and the job's tree read it
    assert (seen["id"], seen["project"], seen["folder"], seen["name"]) == (applet, project, "/tools", "app")
    assert seen["runSpec"] == {"code": "main() { :; }"} and seen["access"] == {"network": ["*"]}
    assert seen["tags"] == ["t"] and seen["state"] == "closed"


def test_collected_when_the_last_job_that_runs_it_ends(db: Database, project: str) -> None:
    applet = _applet(db, project)
    root = _job(db, applet)
    child = _job(db, applet, root)
    _run(db, root)
    remove_objects(db, project, [applet])
    transition(db, root, S.DONE)
    assert get_executable(db, applet)["id"] == applet  # the subjob still runs it
    transition(db, child, S.FAILED, {"failureReason": "AppError", "failureMessage": "x"})
    with pytest.raises(ObjectNotFound):
        get_executable(db, applet)
    assert db.query("SELECT COUNT(*) FROM kept")[0][0] == 0


def test_kept_across_a_restart_of_the_engine(home: Path, project: str, db: Database) -> None:
    applet = _applet(db, project)
    job = _job(db, applet)
    remove_objects(db, project, [applet])  # the job has not even started
    db.close()
    again = Database(home / "runner.db")
    try:
        assert get_executable(again, applet)["name"] == "app"
        transition(again, job, S.TERMINATED)
        with pytest.raises(ObjectNotFound):
            get_executable(again, applet)
    finally:
        again.close()


def test_removed_when_no_unfinished_job_runs_it_is_deleted(db: Database, project: str) -> None:
    applet = _applet(db, project)
    job = _job(db, applet)
    _run(db, job)
    transition(db, job, S.DONE)
    assert remove_objects(db, project, [applet]) == [applet]
    with pytest.raises(ObjectNotFound):
        get_executable(db, applet)
    assert db.query("SELECT COUNT(*) FROM objects")[0][0] == 0


def test_still_in_another_project_it_is_not_kept(db: Database, project: str) -> None:
    other = create_container(db, "project", "q")
    applet = _applet(db, project)
    _job(db, applet)
    clone_objects(db, [applet], project, other)
    assert remove_objects(db, project, [applet]) == []
    assert get_executable(db, applet)["project"] == other
    assert db.query("SELECT COUNT(*) FROM kept")[0][0] == 0


def test_a_folder_removed_with_recurse_keeps_it_too(db: Database, project: str) -> None:
    applet = _applet(db, project, "/build/here")
    _job(db, applet)
    assert remove_folder(db, project, "/build", recurse=True) == [applet]
    assert get_executable(db, applet)["folder"] == "/build/here"


def test_built_again_while_kept_it_is_back_in_a_project(db: Database, project: str) -> None:
    applet = _applet(db, project)
    job = _job(db, applet)
    remove_objects(db, project, [applet])
    # A build of the same content makes the same ID: the object comes back, listed again.
    made = create_object(db, "applet", project, name="again", state="closed", object_id=applet,
                         doc={"runSpec": {"code": "main() { :; }"}})
    assert (made["id"], made["name"]) == (applet, "again")
    assert [o["id"] for o in find_objects(db, klass="applet")] == [applet]
    transition(db, job, S.TERMINATED)  # nothing is collected: it is in a project
    assert get_object(db, applet)["project"] == project


def test_fsck_accepts_one_a_job_needs_and_collects_one_left_behind(db: Database, home: Path,
                                                                     project: str) -> None:
    applet = _applet(db, project)
    job = _job(db, applet)
    remove_objects(db, project, [applet])
    report = run_fsck(db, home, repair=False, ttl_hours=24)
    assert [f for f in report.findings if f.kind != "job-folder-missing"] == []
    # An engine stopped between the job's end and the collection (as an older engine would leave it).
    with db.transaction() as conn:
        conn.execute("UPDATE jobs SET state = 'done' WHERE id = ?", (job,))
    report = run_fsck(db, home, repair=True, ttl_hours=24)
    (orphan,) = [f for f in report.findings if f.kind == "object-orphan"]
    assert orphan.object == applet and orphan.repaired
    assert "kept for the jobs that ran it, which have all ended" in orphan.problem
    with pytest.raises(ObjectNotFound):
        get_executable(db, applet)
    assert db.query("SELECT COUNT(*) FROM kept")[0][0] == 0
    again = run_fsck(db, home, repair=False, ttl_hours=24)
    assert [f for f in again.findings if f.kind != "job-folder-missing"] == []


def test_fsck_repair_never_collects_one_a_job_needs(db: Database, home: Path, project: str) -> None:
    applet = _applet(db, project)
    _job(db, applet)
    remove_objects(db, project, [applet])
    run_fsck(db, home, repair=True, ttl_hours=24)
    assert get_executable(db, applet)["id"] == applet


def test_fsck_deletes_a_kept_entry_of_no_object(db: Database, home: Path, project: str) -> None:
    applet = _applet(db, project)
    _job(db, applet)
    remove_objects(db, project, [applet])
    with db.transaction() as conn:
        conn.execute("DELETE FROM objects WHERE id = ?", (applet,))
    report = run_fsck(db, home, repair=True, ttl_hours=24)
    (dangling,) = [f for f in report.findings if f.kind == "membership-dangling"]
    assert dangling.object == applet and dangling.repaired and project in dangling.problem
    assert db.query("SELECT COUNT(*) FROM kept")[0][0] == 0
