#!/usr/bin/env python3
"""scatter_gather_python: one `square` subjob per number, then a `gather` subjob that sums their outputs.

main returns job-based object references: its outputs resolve once the subjobs are done.
"""

import dxpy


@dxpy.entry_point("main")
def main(n):
    if n < 1:
        raise dxpy.AppError(f"n must be at least 1, got {n}")
    square_jobs = [dxpy.new_dxjob(fn_input={"i": i}, fn_name="square") for i in range(n)]
    gather_job = dxpy.new_dxjob(fn_input={"squares": [job.get_output_ref("square") for job in square_jobs]},
                                fn_name="gather")
    print(f"started {n} square jobs and gather job {gather_job.get_id()}")
    return {"squares": [job.get_output_ref("square") for job in square_jobs],
            "total": gather_job.get_output_ref("total")}


@dxpy.entry_point("square")
def square(i):
    print(f"{i} squared is {i * i}")
    return {"square": i * i}


@dxpy.entry_point("gather")
def gather(squares):
    print(f"summing {squares}")
    return {"total": sum(squares)}


dxpy.run()
