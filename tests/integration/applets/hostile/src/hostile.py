"""hostile: what untrusted job code running as root can do to the files the engine touches.

Input: `scenario` (which attack), `canary` (a host path outside the job folder), `canary_dir` (its folder).
Without dxpy on purpose: the job writes ~/job_output.json itself, exactly as it pleases.

To leave something at the launcher's output.json or error.json after the launcher has written them, the job
moves the launcher's view of its folder away: /opt/applet-runner is renamed (its mounts move with it) and an
empty decoy takes its place, so the launcher writes into the decoy and what the job planted in the real,
mounted work folder is what the engine finds.
"""

import errno
import http.client
import json
import os
import subprocess
import sys
import time

ROOT = "/opt/applet-runner"
MOVED = "/opt/.moved-by-the-job"
HOME = "/home/dnanexus"


def detach():
    """The real work folder, after the launcher has been given a decoy one."""
    os.rename(ROOT, MOVED)
    os.makedirs(ROOT + "/job")
    return MOVED + "/job"


def finish(output):
    with open(os.path.join(HOME, "job_output.json"), "w") as stream:
        json.dump(output, stream)


def engine_gone():
    """Whether the engine stopped answering (the launcher's forwarder then drops each connection)."""
    for _ in range(3):
        try:
            port = int(os.environ["DX_APISERVER_PORT"])
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("POST", "/system/whoami", body=b"{}", headers={
                "Authorization": "Bearer " + json.loads(os.environ["DX_SECURITY_CONTEXT"])["auth_token"]})
            connection.getresponse().read()
            return False
        except (OSError, http.client.HTTPException):
            time.sleep(0.2)
    return True


def plant_links(work, names, target):
    for name in names:
        path = os.path.join(work, name)
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(target, path)


def main():
    with open(os.path.join(HOME, "job_input.json")) as stream:
        given = json.load(stream)
    scenario, canary, canary_dir = given["scenario"], given["canary"], given["canary_dir"]
    if scenario == "output_link_canary":
        plant_links(detach(), ["output.json"], canary)
    elif scenario == "output_link_passwd":
        plant_links(detach(), ["output.json"], "/etc/passwd")
    elif scenario == "error_link_canary":
        plant_links(detach(), ["error.json"], canary)
        sys.exit("failing, so that the engine reads error.json")
    elif scenario == "output_fifo":
        os.mkfifo(os.path.join(detach(), "output.json"))
    elif scenario == "output_directory":
        os.makedirs(os.path.join(detach(), "output.json", "inner"))
    elif scenario == "output_huge":
        with open(os.path.join(detach(), "output.json"), "wb") as stream:
            stream.truncate(16 * 2**20 + 1)
    elif scenario == "output_deep":
        with open(os.path.join(HOME, "job_output.json"), "w") as stream:
            stream.write('{"deep": ' + "[" * 900 + "]" * 900 + "}")
        return
    elif scenario == "hard_links":
        work = detach()
        try:
            os.link("/etc/passwd", os.path.join(work, "output.json"))
            outside = "linked"
        except OSError as exc:
            outside = errno.errorcode[exc.errno]
        with open(os.path.join(work, "mine.json"), "w") as stream:
            json.dump({"outside": outside}, stream)
        os.link(os.path.join(work, "mine.json"), os.path.join(work, "output.json"))
    elif scenario == "old_names":
        work = ROOT + "/job"
        plant_links(work, ["job.log", "job_input.json", ".job_input.json.tmp", "bash-vars.sh"], canary)
        plant_links(work, ["jobs", "input"], canary_dir)
        finish({"planted": "old names"})
        return
    elif scenario == "home_output_link":
        os.symlink("/etc/passwd", os.path.join(HOME, "job_output.json"))
        return
    elif scenario == "fork_bomb":
        children = []
        while True:  # bounded: Popen fails at the process limit; the sleepers end with the container
            children.append(subprocess.Popen(["sleep", "120"]))
    elif scenario == "after_restart":
        with open(ROOT + "/job/watching", "w") as stream:
            stream.write("the job is watching the engine\n")
        while not engine_gone():
            time.sleep(0.5)
        work = detach()
        plant_links(work, ["output.json", "error.json", "job.log"], canary)
        os.mkfifo(os.path.join(work, "bash-vars.sh"))
        with open(os.path.join(work, "planted"), "w") as stream:
            stream.write("done\n")
    else:
        sys.exit("unknown scenario " + scenario)
    finish({})


main()
