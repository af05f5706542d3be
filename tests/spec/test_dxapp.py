"""Reading dxapp.json into typed objects, as `dx build` reads a source folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runner.errors import SpecError
from runner.spec.dxapp import load_dxapp
from tests.conftest import SAMPLE_APPS


def write_applet(folder: Path, document: Any, script: str = "main() { :; }\n") -> Path:
    (folder / "src").mkdir(parents=True, exist_ok=True)
    (folder / "src" / "code.sh").write_text(script)
    (folder / "dxapp.json").write_text(document if isinstance(document, str) else json.dumps(document))
    return folder


def minimal(**extra: Any) -> dict[str, Any]:
    run_spec = {"interpreter": "bash", "file": "src/code.sh", "distribution": "Ubuntu", "release": "20.04"}
    run_spec.update(extra.pop("runSpec", {}))
    return {"runSpec": run_spec, **extra}


def problems_of(folder: Path) -> dict[str, str]:
    with pytest.raises(SpecError) as caught:
        load_dxapp(folder)
    return {p.path: p.message for p in caught.value.problems}


def test_sample_apps_are_valid() -> None:
    bash = load_dxapp(SAMPLE_APPS / "hello_bash")
    python = load_dxapp(SAMPLE_APPS / "hello_python")
    assert (bash.name, bash.run_spec.interpreter) == ("hello_bash", "bash")
    assert python.run_spec.interpreter == "python3"
    assert "dxpy.run()" in python.run_spec.code
    assert bash.input_spec is not None and bash.input_spec[0].default == "World"


def test_defaults_of_a_minimal_document(tmp_path: Path) -> None:
    folder = write_applet(tmp_path / "my_tool", minimal())
    dxapp = load_dxapp(folder)
    assert dxapp.name == "my_tool"
    assert dxapp.dxapi == "1.0.0"
    assert dxapp.input_spec is None and dxapp.output_spec is None
    assert dxapp.run_spec.code == "main() { :; }\n"
    assert dxapp.run_spec.restartable_entry_points == "master"
    assert dxapp.title == "" and dxapp.access.network == ()


def test_readmes_become_description_and_developer_notes(tmp_path: Path) -> None:
    folder = write_applet(tmp_path / "a", minimal())
    (folder / "Readme.md").write_text("# A\nDoes things.\n")
    (folder / "Readme.developer.md").write_text("Notes.\n")
    dxapp = load_dxapp(folder)
    assert dxapp.description.startswith("# A") and dxapp.developer_notes == "Notes.\n"


def test_every_field_is_typed(tmp_path: Path) -> None:
    document = minimal(
        name="full", title="Full", summary="s", description="d", dxapi="1.0.0", version="1.2.3",
        inputSpec=[{"name": "reads", "class": "array:file", "optional": True, "patterns": ["*.fq"]},
                   {"name": "k", "class": "int", "default": 31, "choices": [21, 31]},
                   {"name": "ref", "class": "file", "default": {"$dnanexus_link": {"project": "project-" + "a" * 24,
                                                                                   "id": "file-" + "b" * 24}}}],
        outputSpec=[{"name": "bam", "class": "file"}],
        runSpec={"systemRequirements": {"main": {"instanceType": "mem1_ssd1_v2_x4"}},
                 "timeoutPolicy": {"*": {"hours": 5}},
                 "executionPolicy": {"restartOn": {"AppInternalError": 2}, "maxRestarts": 3},
                 "execDepends": [{"name": "samtools"}, {"name": "pysam", "package_manager": "pip", "version": "0.22"}],
                 "restartableEntryPoints": "all"},
        access={"network": ["*"], "project": "CONTRIBUTE", "developer": True},
        httpsApp={"ports": [443, 8080], "shared_access": "VIEW", "dns": {"hostname": "myprefix-some-name"}},
        ignoreReuse=True, treeTurnaroundTimeThreshold=3600, details={"upstream": "x"},
    )
    dxapp = load_dxapp(write_applet(tmp_path / "full", document))
    assert dxapp.version == "1.2.3" and dxapp.ignore_reuse and dxapp.tree_turnaround_time_threshold == 3600
    assert dxapp.input_spec is not None and [p.klass for p in dxapp.input_spec] == ["array:file", "int", "file"]
    assert dxapp.input_spec[0].item_class == "file" and not dxapp.input_spec[0].required
    assert dxapp.run_spec.timeout_policy == {"*": 5 * 3600}
    assert dxapp.run_spec.exec_depends[1].package_manager == "pip"
    assert dxapp.access.network == ("*",) and dxapp.access.project == "CONTRIBUTE"
    assert dxapp.https_app is not None and dxapp.https_app.ports == (443, 8080)
    assert dxapp.https_app.hostname == "myprefix-some-name"


@pytest.mark.parametrize("interpreter, expected", [
    ("python2.7", "'python2.7' is no longer supported; supported interpreters: bash, python3"),
    ("perl", "'perl' is not supported; supported interpreters: bash, python3"),
])
def test_unsupported_interpreters_say_which_are_supported(tmp_path: Path, interpreter: str, expected: str) -> None:
    assert problems_of(write_applet(tmp_path, minimal(runSpec={"interpreter": interpreter})))["runSpec.interpreter"] == expected


def test_missing_run_spec_fields(tmp_path: Path) -> None:
    problems = problems_of(write_applet(tmp_path, {"runSpec": {}}))
    assert problems["runSpec.interpreter"] == "is required"
    assert problems["runSpec.distribution"] == "is required"
    assert problems["runSpec.release"] == "is required"
    assert "is required" in problems["runSpec.file"]


def test_missing_script_and_escaping_script(tmp_path: Path) -> None:
    assert "does not exist" in problems_of(write_applet(tmp_path / "a", minimal(runSpec={"file": "src/none.sh"})))["runSpec.file"]
    assert "inside the applet folder" in problems_of(write_applet(tmp_path / "b", minimal(runSpec={"file": "../x"})))["runSpec.file"]


def test_https_app_rules(tmp_path: Path) -> None:
    problems = problems_of(write_applet(tmp_path, minimal(httpsApp={"ports": [443, 22], "shared_access": "ALL",
                                                                    "dns": {"hostname": "ab-some-name"}})))
    assert "443, 8080, 8081" in problems["httpsApp.ports"]
    assert "'VIEW', 'CONTRIBUTE', 'ADMINISTER', 'NONE'" in problems["httpsApp.shared_access"]
    assert "must match" in problems["httpsApp.dns.hostname"]
    assert "is required" in problems_of(write_applet(tmp_path, minimal(httpsApp={"ports": [443]})))["httpsApp.shared_access"]


@pytest.mark.parametrize("hostname, valid", [
    ("myprefix-some-name", True), ("ab5-some-name", True), ("ab-some-name", False),
    ("myprefix-som", False), ("Myprefix-some-name", False), ("myprefix-some-name-", False),
])
def test_documented_hostnames(tmp_path: Path, hostname: str, valid: bool) -> None:
    folder = write_applet(tmp_path, minimal(httpsApp={"ports": [443], "shared_access": "NONE", "dns": {"hostname": hostname}}))
    if valid:
        assert load_dxapp(folder).https_app is not None
    else:
        assert "httpsApp.dns.hostname" in problems_of(folder)


def test_non_apt_exec_depends_need_network(tmp_path: Path) -> None:
    problems = problems_of(write_applet(tmp_path, minimal(runSpec={"execDepends": [{"name": "x", "package_manager": "pip"}]})))
    assert "access.network" in problems["runSpec.execDepends[0].package_manager"]


def test_execution_policy_reasons(tmp_path: Path) -> None:
    problems = problems_of(write_applet(tmp_path, minimal(runSpec={"executionPolicy": {
        "restartOn": {"AppError": 1, "*": -1}, "maxRestarts": "3"}})))
    assert "unknown failure reason" in problems["runSpec.executionPolicy.restartOn.AppError"]
    assert "non-negative integer" in problems["runSpec.executionPolicy.restartOn.*"]
    assert "non-negative integer" in problems["runSpec.executionPolicy.maxRestarts"]


def test_regional_system_requirements_replace_run_spec(tmp_path: Path) -> None:
    folder = write_applet(tmp_path, minimal(regionalOptions={
        "aws:us-east-1": {"systemRequirements": {"*": {"instanceType": "mem1_ssd1_v2_x8"}}}}))
    assert load_dxapp(folder).run_spec.system_requirements == {"*": {"instanceType": "mem1_ssd1_v2_x8"}}
    both = write_applet(tmp_path / "b", minimal(
        runSpec={"systemRequirements": {"*": {"instanceType": "mem1_ssd1_v2_x4"}}},
        regionalOptions={"aws:us-east-1": {"systemRequirements": {"*": {"instanceType": "mem1_ssd1_v2_x8"}}}}))
    assert "cannot be given both" in problems_of(both)['regionalOptions["aws:us-east-1"].systemRequirements']


@pytest.mark.parametrize("text, expected", [
    ("{", "not valid JSON"), ("[]", "expected a JSON object"), ('{"runSpec": NaN}', "NaN is not valid JSON"),
    (b"\xff\xfe".decode("latin-1"), "not valid JSON"), ("[" * 100000, "nested too deeply"),
])
def test_documents_that_are_not_objects(tmp_path: Path, text: str, expected: str) -> None:
    problems = problems_of(write_applet(tmp_path, text))
    assert expected in problems[""]


def test_missing_dxapp_json(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == {"": f"no dxapp.json in {tmp_path}"}


def test_unknown_fields_are_warnings_not_errors(tmp_path: Path) -> None:
    dxapp = load_dxapp(write_applet(tmp_path, minimal(flavour="mint")))
    assert [w.path for w in dxapp.warnings] == ["flavour"]


def test_asset_and_bundled_dependencies_are_read_without_a_warning(tmp_path: Path) -> None:
    link = {"$dnanexus_link": "file-" + "F" * 24}
    folder = write_applet(tmp_path / "deps", minimal(runSpec={
        "assetDepends": [{"id": "record-" + "R" * 24}], "bundledDepends": [{"name": "tool.tar.gz", "id": link}]}))
    dxapp = load_dxapp(folder)
    assert dxapp.warnings == ()
    assert dxapp.run_spec.asset_depends == ({"id": "record-" + "R" * 24},)
    assert dxapp.run_spec.bundled_depends == ({"name": "tool.tar.gz", "id": link},)


def test_inline_run_spec_code_is_the_code_when_no_file_is_named(tmp_path: Path) -> None:
    document = minimal()
    del document["runSpec"]["file"]
    document["runSpec"]["code"] = 'main() {\n  echo "inline"\n}\n'
    (tmp_path / "dxapp.json").write_text(json.dumps(document))
    assert load_dxapp(tmp_path).run_spec.code == 'main() {\n  echo "inline"\n}\n'
