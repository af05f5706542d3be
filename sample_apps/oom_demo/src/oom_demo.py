#!/usr/bin/env python3
"""oom_demo: holds ever more memory, 256 MiB at a time, until the job is killed for running out of it.

mem1_ssd1_x2 has 3.8 GiB. The loop stops at 64 GiB, so without a memory limit the job fails on its own.
"""

import dxpy

CHUNK = 256 << 20  # 256 MiB
PAGE = 4096
CAP = 64 << 30  # 64 GiB


@dxpy.entry_point("main")
def main():
    chunks = []
    while len(chunks) * CHUNK < CAP:
        chunk = bytearray(CHUNK)
        chunk[::PAGE] = b"\x01" * (CHUNK // PAGE)  # write to every page so the memory is really used
        chunks.append(chunk)
        print(f"holding {len(chunks) * 256} MiB", flush=True)
    raise dxpy.AppError("held 64 GiB without being stopped: is there no memory limit?")


dxpy.run()
