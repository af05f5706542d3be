# crash_tree: a tree that lives through an engine restart. main starts `quick` (which ends, and writes its
# output, while the engine is away), prints a numbered tick a second, then calls the API with its own token
# and starts `after` once the engine is back.
import os
import time

import dxpy


def ticks(label, seconds):
    for n in range(1, seconds + 1):
        print(f"{label} tick {n}", flush=True)
        time.sleep(1)


@dxpy.entry_point("main")
def main(seconds=20, quick_seconds=5):
    quick = dxpy.new_dxjob({"seconds": quick_seconds}, "quick")
    print(f"main created {quick.get_id()}", flush=True)
    ticks("main", seconds)
    seen = dxpy.api.job_describe(os.environ["DX_JOB_ID"])["state"]
    after = dxpy.new_dxjob({"value": 7}, "after")
    return {"quick": quick.get_output_ref("value"), "after": after.get_output_ref("value"), "state_seen": seen}


@dxpy.entry_point("quick")
def quick(seconds):
    print("quick started", flush=True)
    time.sleep(seconds)
    print("quick done", flush=True)
    return {"value": seconds * 10}


@dxpy.entry_point("after")
def after(value):
    return {"value": value + 1}


dxpy.run()
