"""big_tree: main starts n `leaf` subjobs and one `gather` subjob over all their outputs.

Each leaf returns a value derived from its index, so that a lost, duplicated or swapped output shows.
"""

import dxpy


@dxpy.entry_point("main")
def main(n):
    leaves = [dxpy.new_dxjob(fn_input={"i": i}, fn_name="leaf") for i in range(n)]
    gather = dxpy.new_dxjob(fn_input={"values": [job.get_output_ref("value") for job in leaves],
                                      "indexes": [job.get_output_ref("i") for job in leaves]},
                            fn_name="gather")
    print(f"started {n} leaf jobs and gather job {gather.get_id()}")
    return {"values": [job.get_output_ref("value") for job in leaves],
            "count": gather.get_output_ref("count"), "total": gather.get_output_ref("total")}


@dxpy.entry_point("leaf")
def leaf(i):
    return {"value": f"leaf-{i}-{i * i}", "i": i}


@dxpy.entry_point("gather")
def gather(values, indexes):
    expected = [f"leaf-{i}-{i * i}" for i in indexes]
    if values != expected:
        raise dxpy.AppError(f"gathered values do not match their indexes: {values[:3]}... vs {expected[:3]}...")
    return {"count": len(values), "total": sum(indexes)}


dxpy.run()
