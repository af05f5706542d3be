"""bench_sched_tree: main starts n sleepers, a fixed mix of 1-core and 2-core instance types and durations."""

import time

import dxpy

ONE_CORE, TWO_CORES = "mem2_hdd2_x1", "mem1_ssd1_v2_x2"


def plan(i):
    """The instance type and seconds of sleeper i (the same every run)."""
    return (TWO_CORES if (i * 7) % 5 < 2 else ONE_CORE), 3 + (i * 5) % 6


@dxpy.entry_point("sleeper")
def sleeper(s):
    time.sleep(s)
    print(f"slept {s}", flush=True)
    return {"s": s}


@dxpy.entry_point("main")
def main(n):
    jobs = []
    for i in range(n):
        instance_type, seconds = plan(i)
        jobs.append(dxpy.new_dxjob(fn_input={"s": seconds}, fn_name="sleeper", instance_type=instance_type))
    return {"slept": [job.get_output_ref("s") for job in jobs]}


dxpy.run()
