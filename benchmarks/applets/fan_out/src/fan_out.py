import time

import dxpy


@dxpy.entry_point("sleeper")
def sleeper(seconds):
    time.sleep(seconds)
    return {}


@dxpy.entry_point("main")
def main(n, seconds=1.0):
    for _ in range(n):
        dxpy.new_dxjob(fn_input={"seconds": seconds}, fn_name="sleeper")
    return {}


dxpy.run()
