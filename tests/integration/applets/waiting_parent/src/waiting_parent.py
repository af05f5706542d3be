"""waiting_parent: main holds the whole 2-core host and blocks until its three 1-core children are done.

Without the scheduler's deadlock rule the children would wait for cores that main never gives back. The first
two children, running inside main's cores, watch their siblings' describe until the third says why it waits.
"""

import time

import dxpy

CHILDREN = 3
POLL_S = 0.2


def sibling_waiting(parent):
    """The runnerWaiting of a runnable sibling; None once none is runnable; "" while they are being created."""
    siblings = [found["id"] for found in dxpy.find_executions(parent_job=parent)]
    if len(siblings) < CHILDREN:
        return ""
    described = [dxpy.DXJob(s).describe() for s in siblings if s != dxpy.JOB_ID]
    if any(d["state"] in ("idle", "waiting_on_input") for d in described):
        return ""
    print("siblings:", [(d["id"], d["state"], d.get("runnerWaiting")) for d in described], flush=True)
    reasons = [d.get("runnerWaiting") for d in described if d["state"] == "runnable"]
    return next((r for r in reasons if r), "") if reasons else None


@dxpy.entry_point("main")
def main():
    children = [dxpy.new_dxjob(fn_input={"i": 2 + n, "watch": n < 2}, fn_name="child", instance_type="mem2_hdd2_x1")
                for n in range(CHILDREN)]
    for child in children:
        child.wait_on_done()
    outputs = [child.describe()["output"] for child in children]
    return {"squares": [o["square"] for o in outputs], "seen": [o["seen"] for o in outputs if o["seen"]]}


@dxpy.entry_point("child")
def child(i, watch):
    seen = ""
    if watch:
        parent = dxpy.DXJob(dxpy.JOB_ID).describe()["parentJob"]
        while (reason := sibling_waiting(parent)) == "":
            time.sleep(POLL_S)
        seen = reason or ""
    return {"square": i * i, "seen": seen}


dxpy.run()
