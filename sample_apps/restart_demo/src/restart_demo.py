#!/usr/bin/env python3
"""restart_demo: crashes on tries 0 and 1, succeeds on try 2.

An uncaught exception fails the job with AppInternalError; runSpec.executionPolicy restarts the job
(the same job ID, a new `try`) up to twice for that reason.
"""

import dxpy


@dxpy.entry_point("main")
def main():
    job_try = dxpy.DXJob(dxpy.JOB_ID).describe().get("try", 0)
    print(f"this is try {job_try}")
    if job_try < 2:
        raise RuntimeError(f"simulated crash on try {job_try}")
    return {"tries": job_try + 1}


dxpy.run()
