"""waiting_parent: main holds the whole 2-core host and blocks until its two 1-core children are done.

Without the scheduler's deadlock rule the children would wait for cores that main never gives back.
"""

import dxpy


@dxpy.entry_point("main")
def main():
    children = [dxpy.new_dxjob(fn_input={"i": i}, fn_name="child", instance_type="mem2_hdd2_x1") for i in (2, 3)]
    for child in children:
        child.wait_on_done()
    return {"squares": [child.describe()["output"]["square"] for child in children]}


@dxpy.entry_point("child")
def child(i):
    return {"square": i * i}


dxpy.run()
