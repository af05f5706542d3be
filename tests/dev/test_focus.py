"""The focused loop (`--entry NAME --input-from JOB`): on every save only entry point NAME runs again, alone,
with the input JOB had (its job-based references resolved); a real scatter-gather tree in Docker."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from runner.client.api import EngineClient
from runner.dev.runs import focused
from runner.errors import UsageError
from runner.spec.events import AppletBuildStarted, JobCreated
from tests.dev.conftest import Watching
from tests.integration.helpers import SAMPLE_APPS, tree_jobs, wait_terminal

pytestmark = pytest.mark.docker
SCATTER = "scatter_gather_python"


def test_each_save_re_runs_only_the_focused_subjob_with_its_recorded_input(tmp_path: Path, engine: EngineClient,
                                                                          watching) -> None:
    folder = tmp_path / SCATTER
    shutil.copytree(SAMPLE_APPS / SCATTER, folder)
    applet = engine.call("/runner/build", {"folder": str(folder)}, timeout_s=None)["id"]
    root = engine.call(f"/{applet}/run", {"project": engine.project, "input": {"n": 3}})["id"]
    described = wait_terminal(engine, root)
    assert described["state"] == "done", (described.get("failureReason"), described.get("failureMessage"))
    gather = next(job for job in tree_jobs(engine, root) if job["function"] == "gather")
    assert gather["input"] == {"squares": [0, 1, 4]} and "$dnanexus_link" in str(gather["originalInput"])

    own = EngineClient(engine.url, engine.token, engine.project)
    watch: Watching = watching(folder, start=focused(own, gather["id"], "gather", {"project": engine.project}),
                               focus="gather")
    seen = watch.note("the focused run", lambda t: " done in " in t)
    assert "  total: new  5" in watch.texts()[seen]
    code = folder / "src" / f"{SCATTER}.py"
    code.write_text(code.read_text().replace('return {"total": sum(squares)}',
                                             'return {"total": sum(squares) + 100}'))
    seen = watch.note("the re-run after the save", lambda t: " done in " in t, seen + 1)
    assert "  total: changed  105" in watch.texts()[seen]

    first, second = (e.job for e in watch.recorder.of(JobCreated) if e.parent is None)
    assert [e.job for e in watch.recorder.of(JobCreated)] == [first, second], "a subjob was started"
    for job, rerun_of in ((first, gather["id"]), (second, first)):
        described = engine.call(f"/{job}/describe", {})
        assert (described["function"], described["rerunOf"]) == ("gather", rerun_of)
        assert described["input"] == {"squares": [0, 1, 4]}
    assert [e.changed_files for e in watch.recorder.of(AppletBuildStarted)] == [[], [f"src/{SCATTER}.py"]]
    texts = watch.texts()
    assert texts[0].endswith("; re-running gather on every change; Ctrl+C stops)")
    assert f"started {second} at entry point gather, re-running {first}" in texts


def test_a_job_of_another_entry_point_is_refused_naming_the_one_it_ran(tmp_path: Path,
                                                                       engine: EngineClient) -> None:
    folder = tmp_path / SCATTER
    shutil.copytree(SAMPLE_APPS / SCATTER, folder)
    applet = engine.call("/runner/build", {"folder": str(folder)}, timeout_s=None)["id"]
    root = engine.call(f"/{applet}/run", {"project": engine.project, "input": {"n": 1}})["id"]
    wait_terminal(engine, root)
    square = next(job for job in tree_jobs(engine, root) if job["function"] == "square")
    with pytest.raises(UsageError, match=f"{square['id']} ran entry point 'square'"):
        focused(engine, square["id"], "gather", {})
