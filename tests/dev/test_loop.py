"""The watch loop against a real engine: real files edited in a tmp applet folder, real builds and runs in Docker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner.client.api import EngineClient
from runner.spec.events import AppletBuildStarted, AppletBuilt, JobCreated, JobStateChanged
from tests.dev.conftest import QUICK_SCRIPT, WAITING_SCRIPT, Watching, write_applet

pytestmark = pytest.mark.docker


def roots(watch: Watching) -> list[str]:
    """The root jobs created since the loop began, in order."""
    return [e.job for e in watch.recorder.of(JobCreated) if e.parent is None]


def done_with(watch: Watching, version: str, after: int = 0) -> int:
    """The index of the note saying a run was done with output `version`."""
    return watch.note(f"a run done with {version}", lambda t: " done in " in t and f'"{version}"' in t, after)


def save(path: Path, text: str) -> None:
    """Write `text` to `path` as most tools do (in place)."""
    path.write_text(text)


def test_a_save_a_write_and_rename_and_a_burst_each_rebuild_and_re_run_once(tmp_path: Path, watching) -> None:
    folder = write_applet(tmp_path / "app", QUICK_SCRIPT % "v0")
    code = folder / "src" / "code.sh"
    watch = watching(folder)
    seen = done_with(watch, "v0")
    save(code, QUICK_SCRIPT % "v1")
    seen = done_with(watch, "v1", seen)
    temporary = folder / "src" / ".code.sh.tmp-1234"  # an editor's save: write a temporary file, rename it over
    temporary.write_text(QUICK_SCRIPT % "v2")
    os.replace(temporary, code)
    seen = done_with(watch, "v2", seen)
    for step in ("v3a", "v3b", "v3c", "v3d"):  # a burst: a formatter's four saves in a row
        save(code, QUICK_SCRIPT % step)
    seen = done_with(watch, "v3d", seen)
    save(code, QUICK_SCRIPT % "v4")  # the sentinel: any rebuild still owed to the burst came before it
    done_with(watch, "v4", seen)
    texts = watch.texts()
    assert sum(t.startswith("built ") for t in texts) == 5, texts
    assert [t for t in texts if t.startswith("changed:")] == ["changed: src/code.sh"] * 4
    assert len(watch.recorder.of(AppletBuilt)) == 5
    assert [e.changed_files for e in watch.recorder.of(AppletBuildStarted)] == [[]] + [["src/code.sh"]] * 4
    assert len(roots(watch)) == 5
    assert not any("v3a" in t or "v3b" in t or "v3c" in t for t in texts if " done in " in t)


def test_with_polling_two_saves_within_a_second_each_re_run(tmp_path: Path, watching) -> None:
    folder = write_applet(tmp_path / "app", QUICK_SCRIPT % "poll-v0")
    code = folder / "src" / "code.sh"
    watch = watching(folder, poll=True)
    seen = done_with(watch, "poll-v0")
    code.write_text(QUICK_SCRIPT % "poll-v1")
    seen = watch.note("the first save seen", lambda t: t == "changed: src/code.sh", seen + 1)
    code.write_text(QUICK_SCRIPT % "poll-v2")  # at once: within the same second as the first, most likely
    done_with(watch, "poll-v2", seen + 1)


def test_gitignored_files_and_editor_swap_files_start_nothing(tmp_path: Path, watching) -> None:
    folder = write_applet(tmp_path / "app", QUICK_SCRIPT % "v0")
    (folder / ".gitignore").write_text("# scratch\n*.log\nscratch/\n!keep.log\n")
    watch = watching(folder)
    seen = done_with(watch, "v0")
    (folder / "run.log").write_text("noise")
    (folder / "scratch").mkdir()
    (folder / "scratch" / "notes.sh").write_text("echo scratch")
    (folder / "src" / ".code.sh.swp").write_text("vim's swap file")
    (folder / "src" / "code.sh").write_text(QUICK_SCRIPT % "v1")
    done_with(watch, "v1", seen)
    texts = watch.texts()
    assert [t for t in texts if t.startswith("changed:")] == ["changed: src/code.sh"]
    assert len(roots(watch)) == 2
    (folder / "keep.log").write_text("a negated pattern: this one counts")
    watch.note("keep.log seen", lambda t: t == "changed: keep.log", seen)


def test_a_broken_dxapp_json_is_reported_as_build_dry_run_does_and_its_fix_re_runs(tmp_path: Path,
                                                                                   watching) -> None:
    folder = write_applet(tmp_path / "app", QUICK_SCRIPT % "v0")
    good = (folder / "dxapp.json").read_text()
    watch = watching(folder)
    seen = done_with(watch, "v0")
    applet = next(t for t in watch.texts() if t.startswith("built ")).split()[1]
    (folder / "dxapp.json").write_text('{"name": 3, "runSpec": {"interpreter": "cobol"}}')
    broken = watch.note("the build's problems", lambda t: t.startswith("error:"), seen)
    report = watch.texts()[broken].splitlines()
    dry_run = subprocess.run([sys.executable, "-m", "runner", "build", "--dry-run", str(folder)],
                             capture_output=True, text=True, check=False)
    assert dry_run.returncode == 3
    assert report[:-1] == dry_run.stderr.strip().splitlines()
    assert report[-1] == f"  still watching; the last good build, {applet}, stays"
    assert "name" in watch.texts()[broken] and "interpreter" in watch.texts()[broken]
    (folder / "dxapp.json").write_text(good)
    (folder / "src" / "code.sh").write_text(QUICK_SCRIPT % "v1")
    done_with(watch, "v1", broken)
    assert len(roots(watch)) == 2, "the broken build started a run"


FAILING_TREE = """main() {
    sub=$(dx-jobutil-new-job boom)
    dx-jobutil-add-output version "$sub:version" --class=jobref
}
boom() {
    echo "checking the reference %s"
    echo "last words before failing" >&2
    %s
    dx-jobutil-add-output version "%s" --class=string
}
"""


def test_a_failed_run_says_why_names_the_subjob_and_its_last_lines_and_watching_goes_on(
        tmp_path: Path, watching, engine: EngineClient) -> None:
    folder = write_applet(tmp_path / "app", FAILING_TREE % ("v0", "exit 3", "v0"))
    watch = watching(folder)
    failed = watch.note("the failure", lambda t: " failed: " in t)
    text = watch.texts()[failed]
    root = roots(watch)[0]
    subjob = next(e.job for e in watch.recorder.of(JobCreated) if e.parent == root)
    assert text.startswith(f"{root} failed: ")
    assert f"caused by {subjob} (" in text and "entry point boom" in text
    assert f"last log lines of {subjob}:" in text and "last words before failing" in text
    assert text.splitlines()[-1] == "  still watching"
    described = engine.call(f"/{root}/describe", {})
    assert described["failureReason"] in text and described["failureFrom"]["id"] == subjob
    (folder / "src" / "code.sh").write_text(FAILING_TREE % ("v1", "true", "fixed"))
    done_with(watch, "fixed", failed)


FILE_OUTPUT = """main() {
    # %s
    echo "%s" > result.txt
    file=$(dx upload result.txt --brief)
    dx-jobutil-add-output result "$file" --class=file
    dx-jobutil-add-output version "%s" --class=string
}
"""


def test_outputs_are_compared_with_the_previous_run_a_file_by_its_content(tmp_path: Path, watching,
                                                                           engine: EngineClient) -> None:
    folder = write_applet(tmp_path / "app", FILE_OUTPUT % ("first", "42", "v"),
                          outputSpec=[{"name": "result", "class": "file"},
                                      {"name": "version", "class": "string", "optional": True}])
    code = folder / "src" / "code.sh"
    watch = watching(folder)
    seen = watch.note("the first run", lambda t: " done in " in t)
    assert "  result: new  " in watch.texts()[seen] and '  version: new  "v"' in watch.texts()[seen]
    code.write_text(FILE_OUTPUT % ("a comment changed", "42", "v"))  # a new file, the same bytes
    seen = watch.note("the second run", lambda t: " done in " in t, seen + 1)
    second = watch.texts()[seen]
    assert "  result: same  " in second and "  version: same  " in second
    code.write_text(FILE_OUTPUT % ("a comment changed", "43", "v"))
    seen = watch.note("the third run", lambda t: " done in " in t, seen + 1)
    assert "  result: changed  " in watch.texts()[seen] and "  version: same  " in watch.texts()[seen]
    code.write_text((FILE_OUTPUT % ("no version", "43", "v")).replace(
        '    dx-jobutil-add-output version "v" --class=string\n', ""))
    seen = watch.note("the fourth run", lambda t: " done in " in t, seen + 1)
    assert "  result: same  " in watch.texts()[seen] and "  version: missing" in watch.texts()[seen]


def test_unchanged_source_is_the_same_applet_so_reuse_reuses_the_run(tmp_path: Path, engine: EngineClient,
                                                                      watching) -> None:
    from runner.dev.runs import same_request

    folder = write_applet(tmp_path / "app", QUICK_SCRIPT % "reused")  # no other test's applet
    own = EngineClient(engine.url, engine.token, engine.project)
    watch = watching(folder, start=same_request(own, {"project": engine.project, "input": {}, "reuse": True}))
    seen = done_with(watch, "reused")
    (folder / "src" / "code.sh").write_text(QUICK_SCRIPT % "reused")  # saved again, unchanged
    seen = done_with(watch, "reused", seen + 1)
    assert "(unchanged: the same applet as before)" in watch.texts()[seen - 2]
    first, second = roots(watch)
    assert engine.call(f"/{second}/describe", {})["outputReusedFrom"] == first


def release(engine: EngineClient, job: str) -> None:
    """Let a job running WAITING_SCRIPT finish."""
    engine.call(f"/{job}/addTags", {"tags": ["released"]})


def running(watch: Watching, job: str) -> None:
    """Wait until `job` runs."""
    watch.until(f"{job} running", lambda: any(e.job == job and e.to_state == "running"
                                                for e in watch.recorder.of(JobStateChanged)))


def ended(watch: Watching, job: str) -> str:
    """The state `job` ended in."""
    return str(watch.until(f"{job} ended", lambda: next((e.to_state for e in watch.recorder.of(JobStateChanged)
                                                         if e.job == job and e.to_state in
                                                         ("done", "failed", "terminated")), None)))


def test_on_busy_restart_terminates_the_tree_waits_for_its_end_and_re_runs(tmp_path: Path, watching) -> None:
    folder = write_applet(tmp_path / "app", WAITING_SCRIPT % "v0")
    watch = watching(folder, on_busy="restart")
    first = watch.until("the first run", lambda: roots(watch))[0]
    running(watch, first)
    (folder / "src" / "code.sh").write_text(QUICK_SCRIPT % "v1")
    done_with(watch, "v1")
    assert ended(watch, first) == "terminated"
    texts = watch.texts()
    assert f"terminating {first}, then re-running" in texts
    assert texts.index(f"{first} terminated for the re-run") < texts.index(next(
        t for t in texts if t.startswith(f"started {roots(watch)[1]}")))
    assert len(roots(watch)) == 2


def test_on_busy_queue_re_runs_once_when_the_tree_ends_for_any_number_of_changes(
        tmp_path: Path, watching, engine: EngineClient) -> None:
    folder = write_applet(tmp_path / "app", WAITING_SCRIPT % "v0")
    code = folder / "src" / "code.sh"
    watch = watching(folder, on_busy="queue")
    first = watch.until("the first run", lambda: roots(watch))[0]
    running(watch, first)
    code.write_text(QUICK_SCRIPT % "v1")
    seen = watch.note("the change queued", lambda t: t == f"re-running when {first} ends")
    code.write_text(QUICK_SCRIPT % "v2")
    watch.note("the second change", lambda t: t == "changed: src/code.sh", seen + 1)
    assert len(roots(watch)) == 1
    release(engine, first)
    seen = done_with(watch, "v2")
    assert ended(watch, first) == "done"
    code.write_text(QUICK_SCRIPT % "v3")  # the sentinel
    done_with(watch, "v3", seen + 1)
    assert len(roots(watch)) == 3, "two changes while busy should give one re-run"


def test_on_busy_ignore_drops_the_change(tmp_path: Path, watching, engine: EngineClient) -> None:
    folder = write_applet(tmp_path / "app", WAITING_SCRIPT % "v0")
    code = folder / "src" / "code.sh"
    watch = watching(folder, on_busy="ignore")
    first = watch.until("the first run", lambda: roots(watch))[0]
    running(watch, first)
    code.write_text(QUICK_SCRIPT % "v1")
    seen = watch.note("the change ignored", lambda t: t.startswith(f"ignored: {first} is still running"))
    release(engine, first)
    seen = done_with(watch, "v0", seen + 1)
    code.write_text(QUICK_SCRIPT % "v2")  # the sentinel
    done_with(watch, "v2", seen + 1)
    assert len(roots(watch)) == 2
    assert not any('"v1"' in t for t in watch.texts())


RESOURCE_SCRIPT = """main() {
    dx-jobutil-add-output version "$(cat /opt/dev_probe/word.txt) ${suffix}" --class=string
}
"""


def test_a_change_under_resources_or_to_dxapp_json_alone_rebuilds_and_re_runs(tmp_path: Path, watching) -> None:
    spec = [{"name": "suffix", "class": "string", "default": "one"}]
    folder = write_applet(tmp_path / "app", RESOURCE_SCRIPT, inputSpec=spec)
    (folder / "resources" / "opt" / "dev_probe").mkdir(parents=True)
    word = folder / "resources" / "opt" / "dev_probe" / "word.txt"
    word.write_text("first")
    watch = watching(folder)
    seen = done_with(watch, "first one")
    word.write_text("second")
    seen = done_with(watch, "second one", seen + 1)
    assert "changed: resources/opt/dev_probe/word.txt" in watch.texts()
    dxapp = folder / "dxapp.json"
    dxapp.write_text(dxapp.read_text().replace('"default": "one"', '"default": "two"'))
    done_with(watch, "second two", seen + 1)
    assert "changed: dxapp.json" in watch.texts()
    assert len(roots(watch)) == 3
