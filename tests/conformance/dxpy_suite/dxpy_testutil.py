"""The `dxpy_testutil` module dxpy's own tests import, pointed at the engine that `DX_APISERVER_*` names."""

# dxpy's source distribution ships its tests but not this helper: this is a small one of our own, with the
# names those tests use. Flags that select platform-only tests (apps, orgs, other users, Azure) stay off.

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
import typing
import unittest
from contextlib import contextmanager

import dxpy

_RUN_ALL = "DXTEST_FULL" in os.environ
TEST_RUN_JOBS = _RUN_ALL or "DXTEST_RUN_JOBS" in os.environ
TEST_ISOLATED_ENV = "DXTEST_ISOLATED_ENV" in os.environ
TEST_MULTIPLE_USERS = "DXTEST_SECOND_USER" in os.environ
TEST_AZURE = "DXTEST_AZURE" in os.environ
TEST_ENV = "DXTEST_ENV" in os.environ
TEST_FUSE = "DXTEST_FUSE" in os.environ
TEST_DX_LOGIN = "DXTEST_LOGIN" in os.environ
TEST_TCSH = "DXTEST_TCSH" in os.environ
TEST_WITH_AUTHSERVER = "DXTEST_WITH_AUTHSERVER" in os.environ
TEST_HTTP_PROXY = "DXTEST_HTTP_PROXY" in os.environ
TEST_NF_DOCKER = "DXTEST_NF_DOCKER" in os.environ
TEST_NO_RATE_LIMITS = "DXTEST_NO_RATE_LIMITS" in os.environ
TEST_WITH_SMOKETEST_APP = "DXTEST_WITH_SMOKETEST_APP" in os.environ


class DXCalledProcessError(subprocess.CalledProcessError):
    """A command that failed, with its stdout and stderr (both text)."""

    def __str__(self):
        return f"Command {self.cmd!r} returned non-zero exit status {self.returncode}, stderr:\n{self.stderr}"


def check_output(*popenargs, also_return_stderr=False, **kwargs):
    """The command's stdout as text (and stderr if asked); a failure raises DXCalledProcessError with both."""
    if "stdout" in kwargs or "stderr" in kwargs:
        raise ValueError("stdout and stderr are captured by check_output")
    # stdin is a pipe unless given, so that dx never waits on a terminal prompt.
    kwargs.setdefault("stdin", subprocess.PIPE)
    process = subprocess.Popen(*popenargs, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
    output, err = process.communicate()
    output = output if isinstance(output, str) else output.decode("utf-8")
    err = err if isinstance(err, str) else err.decode("utf-8")
    if process.returncode:
        print(err)
        command = kwargs.get("args", popenargs[0] if popenargs else None)
        raise DXCalledProcessError(process.returncode, command, output=output, stderr=err)
    return (output, err) if also_return_stderr else output


def run(command, **kwargs):
    """Run a shell command line, echoing it and its output; its stdout (see check_output)."""
    print(f"$ {command}")
    output = check_output(command, shell=True, **kwargs)
    print(output)
    return output


def cd(directory):
    """`dx cd` in a process of its own, so that the folder lands in the config folder later commands read."""
    print(f"$ dx cd {directory}")
    output = check_output(["dx", "cd", directory])
    print(output)
    return output


@contextmanager
def chdir(dirname=None):
    """Make `dirname` the working directory while the block runs (no change if None)."""
    previous = os.getcwd()
    try:
        if dirname is not None:
            os.chdir(dirname)
        yield
    finally:
        os.chdir(previous)


def override_environment(**overrides):
    """A copy of os.environ with each given variable set (a string) or removed (None)."""
    env = dict(os.environ)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def generate_unique_username_email():
    """A user name and e-mail address unlikely to exist yet."""
    username = f"asset_{int(time.time())}_{random.randint(0, 255)}"
    return username, f"{username}@example.com"


@contextmanager
def _without_variables(*names):
    saved = {name: os.environ.pop(name) for name in names if name in os.environ}
    subprocess.check_call(["dx", "clearenv"])
    try:
        yield
    finally:
        os.environ.update(saved)


def without_project_context():
    """Unset the project context and workspace (and the saved CLI environment) while the block runs."""
    return _without_variables("DX_WORKSPACE_ID", "DX_PROJECT_CONTEXT_ID")


def without_auth():
    """Unset the security context (and the saved CLI environment) while the block runs."""
    return _without_variables("DX_SECURITY_CONTEXT")


def update_traceability_matrix(_requirement_ids):
    """A decorator that leaves the test as it is (the platform's traceability report has no place here)."""
    def decorate(test):
        return test
    return decorate


def as_second_user():
    """The environment of a second user: the engine has one user only."""
    raise unittest.SkipTest("the engine has a single user")


@contextmanager
def select_project(project_id):
    """Make the project (an ID or a DXProject) the workspace and project context while the block runs."""
    if isinstance(project_id, dxpy.DXProject):
        project_id = project_id.get_id()
    old_workspace, old_env = dxpy.WORKSPACE_ID, os.environ.get("DX_PROJECT_CONTEXT_ID")
    dxpy.set_workspace_id(project_id)
    os.environ["DX_PROJECT_CONTEXT_ID"] = project_id
    try:
        yield
    finally:
        dxpy.set_workspace_id(old_workspace)
        if old_env is None:
            os.environ.pop("DX_PROJECT_CONTEXT_ID", None)
        else:
            os.environ["DX_PROJECT_CONTEXT_ID"] = old_env


@contextmanager
def temporary_project(name="dx client test temporary project", cleanup=True, reclaim_permissions=False,
                      select=False, region=None, **kwargs):
    """A new project, as a DXProject, destroyed afterwards (optionally the workspace meanwhile)."""
    request = {"name": name}
    if region is not None:
        request["region"] = region
    project_id = dxpy.api.project_new(request, **kwargs)["id"]
    try:
        if select:
            with select_project(project_id):
                yield dxpy.DXProject(project_id)
        else:
            yield dxpy.DXProject(project_id)
    finally:
        if cleanup:
            dxpy.api.project_destroy(project_id, {"terminateJobs": True}, **kwargs)


@contextmanager
def TemporaryFile(mode="w+", bufsize=-1, suffix="", prefix="tmp", dir=None, delete=True, close=False):
    """A named temporary file that stays on disk while the block runs (closed first if `close`)."""
    with tempfile.NamedTemporaryFile(mode=mode, buffering=bufsize, suffix=suffix, prefix=prefix, dir=dir,
                                     delete=False) as handle:
        if close:
            handle.close()
        try:
            yield handle
        finally:
            if delete and os.path.exists(handle.name):
                os.remove(handle.name)


def analysis_describe_with_retry(analysis_or_id, attempts=30):
    """The describe of an analysis, retried while it is not yet visible."""
    handler = analysis_or_id if isinstance(analysis_or_id, dxpy.DXAnalysis) else dxpy.DXAnalysis(analysis_or_id)
    for attempt in range(attempts):
        try:
            return handler.describe()
        except dxpy.exceptions.ResourceNotFound:
            if attempt == attempts - 1:
                raise
            time.sleep(1)


class DXTestCaseCompat(unittest.TestCase):
    """A TestCase with the Python 2 assertion names dxpy's tests still use."""

    def assertItemsEqual(self, first, second, msg=None):
        """The two iterables hold the same items, in any order."""
        self.assertCountEqual(first, second, msg)

    def assertRegexpMatches(self, text, regexp, msg=None):
        """`text` matches `regexp`."""
        self.assertRegex(text, regexp, msg)

    def assertNotRegexpMatches(self, text, regexp, msg=None):
        """`text` does not match `regexp`."""
        self.assertNotRegex(text, regexp, msg)


class DXTestCase(DXTestCaseCompat):
    """A test with a fresh project of its own as `self.project`, selected (and `/` the CLI's folder) by `dx cd`."""

    def setUp(self):
        self.project = dxpy.api.project_new({"name": "dxclient_test_pröject"})["id"]
        self._conf_dir = os.environ.get("DX_USER_CONF_DIR")
        os.environ["DX_PROJECT_CONTEXT_ID"] = self.project
        dxpy.set_workspace_id(self.project)
        dxpy.config["DX_PROJECT_CONTEXT_ID"] = self.project
        # The CLI's folder lives in the config folder, as `dx cd` leaves it, not in the environment, where it
        # would override every later `dx cd` of the test. What `dx cd <project>:/` would write, written here:
        # a dx process per test was a second each.
        _save_cli_folder(self.project, "dxclient_test_pröject", "/")

    def tearDown(self):
        # Some tests point DX_USER_CONF_DIR elsewhere: the harness's own comes back.
        if self._conf_dir is not None:
            os.environ["DX_USER_CONF_DIR"] = self._conf_dir
        try:
            dxpy.api.project_destroy(self.project, {"terminateJobs": True})
        except dxpy.exceptions.DXAPIError as exc:
            print("Failed to remove test project:", exc)

    @contextmanager
    def assertSubprocessFailure(self, output_regexp=None, output_text=None, stderr_regexp=None, stderr_text=None,
                                exit_code=3):
        """The block raises a CalledProcessError with `exit_code`, its stdout and stderr matching what is given."""
        if output_text is not None:
            output_regexp = _words_regexp(output_text)
        if stderr_text is not None:
            stderr_regexp = _words_regexp(stderr_text)
        try:
            yield
        except subprocess.CalledProcessError as exc:
            self.assertEqual(exit_code, exc.returncode, f"expected exit code {exit_code}, got {exc.returncode}")
            if output_regexp and not re.search(output_regexp, exc.output):
                self.fail(f"expected stdout to match {output_regexp!r}:\n{exc.output}")
            if stderr_regexp and not re.search(stderr_regexp, exc.stderr or ""):
                self.fail(f"expected stderr to match {stderr_regexp!r}:\n{exc.stderr}")
            return
        self.fail("expected the command to fail with CalledProcessError, but it succeeded")

    def assertFileContentsEqualsString(self, path, text):
        """The file at the path made of `path`'s parts holds exactly `text`."""
        with open(os.sep.join(path)) as handle:
            self.assertEqual(handle.read(), text)

    def assertDictSubsetOf(self, subset, containing):
        """Every key of `subset` is in `containing`, with the same value."""
        differing = sorted(key for key in subset if key in containing and subset[key] != containing[key])
        missing = sorted(key for key in subset if key not in containing)
        if differing or missing:
            self.fail(f"expected {json.dumps(subset, sort_keys=True, indent=4)}\nto be a subset of\n"
                      f"{json.dumps(containing, sort_keys=True, indent=4)}\ndiffering: {differing}; "
                      f"missing: {missing}")

    def assertDictContainsSubset(self, subset, dictionary, msg=None):
        """Every item of `subset` is in `dictionary` (unittest's own is deprecated)."""
        self.assertDictSubsetOf(subset, dictionary)


def _save_cli_folder(project_id, project_name, folder):
    """Select the project and folder for later `dx` commands, where `dx cd` run from here would save them: the
    user's config folder and the session folder of this process (the first a `dx` started from here finds)."""
    dxpy.config["DX_PROJECT_CONTEXT_ID"] = project_id
    dxpy.config["DX_PROJECT_CONTEXT_NAME"] = project_name
    dxpy.config["DX_CLI_WD"] = folder
    conf_dir = dxpy.config.get_user_conf_dir()
    for where in (conf_dir, os.path.join(conf_dir, "sessions", str(os.getpid()))):
        dxpy.config._write_conf_dir(where)
    os.environ.pop("DX_CLI_WD", None)


def _words_regexp(text):
    """A regexp matching the words of `text` with any whitespace between them."""
    return r"\s+".join(re.escape(word) for word in text.split())


class DXTestCaseBuildWorkflows(DXTestCase):
    """A DXTestCase with a scratch folder for workflow directories (workflows are out of scope)."""

    def setUp(self):
        super().setUp()
        self.temp_file_path = tempfile.mkdtemp()

    def create_applet_spec(self, project_id):
        """The /applet/new input of a small bash applet taking and giving an int `number`."""
        return {"name": "my_first_applet", "project": project_id, "dxapi": "1.0.0",
                "inputSpec": [{"name": "number", "class": "int"}],
                "outputSpec": [{"name": "number", "class": "int"}],
                "runSpec": {"interpreter": "bash", "distribution": "Ubuntu", "release": "20.04", "version": "0",
                            "code": "main() { dx-jobutil-add-output number 32; }"}}

    @property
    def test_applet_id(self):
        """The ID of that applet in the test's project (made on first use: not every test runs one)."""
        if getattr(self, "_test_applet_id", None) is None:
            self._test_applet_id = dxpy.api.applet_new(self.create_applet_spec(self.project))["id"]
        return self._test_applet_id

    def write_workflow_directory(self, workflow_name, dxworkflow_str, readme_content="Workflow doc"):
        """A folder holding dxworkflow.json (and a Readme.md) for `dx build`."""
        folder = os.path.join(self.temp_file_path, workflow_name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "dxworkflow.json"), "w") as spec:
            spec.write(dxworkflow_str)
        with open(os.path.join(folder, "Readme.md"), "w") as readme:
            readme.write(readme_content)
        return folder


class DXTestCaseBuildApps(DXTestCase):
    """A DXTestCase with a scratch folder for app directories (dxapp.json and code) for `dx build`."""

    base_app_spec: typing.ClassVar[dict] = {
        "dxapi": "1.0.0", "inputSpec": [], "outputSpec": [], "version": "1.0.0",
        "runSpec": {"file": "code.py", "interpreter": "python3", "distribution": "Ubuntu", "release": "20.04",
                    "version": "0"},
    }

    def setUp(self):
        super().setUp()
        self.temp_file_path = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.temp_file_path, ignore_errors=True)
        super().tearDown()

    def make_apps(self, num_apps, name_prefix, bill_to=None):
        """Build `num_apps` minimal apps named `name_prefix_<i>`; their `dx build --json` outputs."""
        apps = []
        for index in range(num_apps):
            spec = dict(self.base_app_spec, name=f"{name_prefix}_{index}")
            if bill_to is not None:
                spec["billTo"] = bill_to
            folder = self.write_app_directory("minimal_åpp", json.dumps(spec), "code.py")
            apps.append(json.loads(run("dx build --create-app --json " + folder)))
        return apps

    def write_app_directory(self, app_name, dxapp_str, code_filename=None, code_content="\n"):
        """A folder holding dxapp.json (if given) and a code file (if named) for `dx build`; its path."""
        folder = os.path.join(self.temp_file_path, app_name)
        os.makedirs(folder, exist_ok=True)
        if dxapp_str is not None:
            with open(os.path.join(folder, "dxapp.json"), "wb") as manifest:
                manifest.write(dxapp_str.encode())
        if code_filename:
            with open(os.path.join(folder, code_filename), "w") as code:
                code.write(code_content)
        return folder
