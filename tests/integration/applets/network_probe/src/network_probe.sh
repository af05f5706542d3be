#!/bin/bash
# network_probe: where a job with access.network finds the API, and that it answers there.

main() {
    api_state=$(python3 -c "import dxpy, os; print(dxpy.describe(os.environ['DX_JOB_ID'])['state'])")
    dx-jobutil-add-output api_host "${DX_APISERVER_HOST}" --class=string
    dx-jobutil-add-output api_state "${api_state}" --class=string
}
