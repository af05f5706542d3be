"""read_other_project: the state of `own` (in the project context) and the error describing `other` raises."""

import dxpy


@dxpy.entry_point("main")
def main(own, other):
    own_state = dxpy.describe(own)["state"]
    try:
        dxpy.describe(other)
        other_error = "none"
    except dxpy.exceptions.DXAPIError as exc:
        other_error = exc.name
    return {"own_state": own_state, "other_error": other_error}


dxpy.run()
