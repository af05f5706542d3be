"""A job of an app: what it reads in its resources container, whether it may write there or read its project,
and how many runs before it left their mark in the project cache (each run adds one)."""

import os

import dxpy

COUNTER = "runs.txt"


def _outcome(action):
    try:
        action()
    except dxpy.exceptions.DXAPIError as exc:
        return exc.name
    return "allowed"


@dxpy.entry_point("main")
def main(note=None):
    resources, cache = os.environ["DX_RESOURCES_ID"], os.environ["DX_PROJECT_CACHE_ID"]
    project = os.environ["DX_PROJECT_CONTEXT_ID"]
    names = sorted(o["describe"]["name"] for o in dxpy.find_data_objects(project=resources, describe=True))
    write = _outcome(lambda: dxpy.upload_string("intruder", project=resources, name="intruder.txt"))
    read = _outcome(lambda: list(dxpy.find_data_objects(project=project)))
    before = 0
    for found in dxpy.find_data_objects(project=cache, name=COUNTER):
        before = int(dxpy.DXFile(found["id"], project=cache).read())
        dxpy.DXContainer(cache).remove_objects([found["id"]])
    dxpy.upload_string(str(before + 1), project=cache, name=COUNTER, wait_on_close=True)
    return {"runs_before": before, "resources": names, "resource_write": write, "project_read": read,
            "env": {"resources": resources, "cache": cache}}


dxpy.run()
