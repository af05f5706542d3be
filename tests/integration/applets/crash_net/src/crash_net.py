# crash_net: reaches the engine over the jobs' network (its gateway and port), before and after a restart.
import os
import time

import dxpy


@dxpy.entry_point("main")
def main(seconds):
    dxpy.api.job_describe(os.environ["DX_JOB_ID"])
    for n in range(1, seconds + 1):
        print(f"net tick {n}", flush=True)
        time.sleep(1)
    return {"state_seen": dxpy.api.job_describe(os.environ["DX_JOB_ID"])["state"]}


dxpy.run()
