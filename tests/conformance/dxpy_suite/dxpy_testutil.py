"""The `dxpy_testutil` module dxpy's own tests import, pointed at the engine that `DX_APISERVER_*` names."""

# dxpy's source distribution ships its tests but not this helper: this is a small one of our own, with the
# names those tests use. Flags that select platform-only tests (apps, orgs, other users, Azure) stay off.

from __future__ import annotations

import os
import tempfile
import time
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
    """Make `project_id` the workspace (and project context) while the block runs."""
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
def TemporaryFile(mode="w+b", bufsize=-1, suffix="", prefix="tmp", dir=None, delete=True, close=False):
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
    """A test with a fresh project of its own as `self.project`, the project context and the CLI's folder `/`."""

    def setUp(self):
        self.project = dxpy.api.project_new({"name": "dxclient_test_pröject"})["id"]
        os.environ["DX_PROJECT_CONTEXT_ID"] = self.project
        dxpy.set_workspace_id(self.project)
        dxpy.config["DX_PROJECT_CONTEXT_ID"] = self.project
        dxpy.config["DX_CLI_WD"] = "/"

    def tearDown(self):
        try:
            dxpy.api.project_destroy(self.project, {"terminateJobs": True})
        except dxpy.exceptions.DXAPIError as exc:
            print("Failed to remove test project:", exc)


class DXTestCaseBuildWorkflows(DXTestCase):
    """A DXTestCase with a scratch folder for workflow directories (workflows are out of scope)."""

    def setUp(self):
        super().setUp()
        self.temp_file_path = tempfile.mkdtemp()

    def write_workflow_directory(self, workflow_name, dxworkflow_str, readme_content="Workflow doc"):
        """A folder holding dxworkflow.json (and a Readme.md) for `dx build`."""
        folder = os.path.join(self.temp_file_path, workflow_name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "dxworkflow.json"), "w") as spec:
            spec.write(dxworkflow_str)
        with open(os.path.join(folder, "Readme.md"), "w") as readme:
            readme.write(readme_content)
        return folder
