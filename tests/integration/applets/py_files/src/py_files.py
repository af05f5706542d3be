import os

import dxpy


@dxpy.entry_point("main")
def main(text, more=None):
    inputs = dxpy.download_all_inputs()
    with dxpy.open_dxfile(text) as handle:
        content = handle.read()
    if isinstance(content, bytes):
        content = content.decode()
    with open("upper.txt", "w") as out:
        out.write(content.upper())
    upper = dxpy.upload_local_file("upper.txt")
    # download_all_inputs gives a list of paths per input, single inputs included.
    paths = list(inputs["text_path"]) + list(inputs.get("more_path", []))
    return {
        "upper": dxpy.dxlink(upper),
        "sizes": [os.path.getsize(p) for p in paths],
        "names": [os.path.basename(p) for p in paths],
    }


dxpy.run()
