import time

import dxpy


@dxpy.entry_point("main")
def main(cpu_seconds, mib, rest_seconds=0):
    block = bytearray(b"\x01") * (mib << 20)  # written, so every page is resident
    time.sleep(rest_seconds)  # idle first: a sampler sees the CPU go from 0 to a whole core
    wall, cpu = time.monotonic(), time.process_time()
    while time.process_time() - cpu < cpu_seconds:
        sum(range(10000))
    share = (time.process_time() - cpu) / (time.monotonic() - wall) * 100
    print(f"held {len(block) >> 20} MiB; one core at {share:.0f}% of the time")
    return {"cpu_percent": share}


dxpy.run()
