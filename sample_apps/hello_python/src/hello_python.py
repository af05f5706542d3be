#!/usr/bin/env python3
"""hello_python: greets `who`, `times` times."""

import dxpy


@dxpy.entry_point("main")
def main(who, times=1):
    greeting = " ".join([f"Hello, {who}!"] * times)
    print(greeting)
    return {"greeting": greeting}


dxpy.run()
