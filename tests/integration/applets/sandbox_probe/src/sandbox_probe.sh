#!/bin/bash
# sandbox_probe: what a job without access.network can see and reach.

main() {
    if [ -e /var/run/docker.sock ] || [ -e /run/docker.sock ]; then socket=present; else socket=absent; fi
    if [ -f /sys/fs/cgroup/pids.max ]; then
        pids_max=$(cat /sys/fs/cgroup/pids.max)
    else
        pids_max=$(cat /sys/fs/cgroup/pids/pids.max)
    fi
    if python3 -c "import socket; socket.create_connection(('1.1.1.1', 53), timeout=3)"; then
        internet=reachable
    else
        internet=unreachable
    fi
    api_state=$(python3 -c "import dxpy, os; print(dxpy.describe(os.environ['DX_JOB_ID'])['state'])")
    dx-jobutil-add-output docker_socket "${socket}" --class=string
    dx-jobutil-add-output pids_max "${pids_max}" --class=string
    dx-jobutil-add-output no_new_privs "$(awk '/^NoNewPrivs:/ {print $2}' /proc/self/status)" --class=string
    dx-jobutil-add-output cap_eff "$(awk '/^CapEff:/ {print $2}' /proc/self/status)" --class=string
    dx-jobutil-add-output internet "${internet}" --class=string
    dx-jobutil-add-output api_state "${api_state}" --class=string
}
