import time

import dxpy


@dxpy.entry_point("sleeper")
def sleeper():
    time.sleep(1)
    return {}


@dxpy.entry_point("main")
def main(n):
    for _ in range(n):
        dxpy.new_dxjob(fn_input={}, fn_name="sleeper")
    return {}


dxpy.run()
