#!/bin/bash
# keep_applet: main says it is waiting (a file in the engine's job folder), waits for the test's "go" (its
# applet is removed meanwhile), then describes its applet and starts a subjob at another entry point.
set -euo pipefail

SIGNALS=/opt/applet-runner/job

main() {
    touch "$SIGNALS/waiting"
    while [ ! -e "$SIGNALS/go" ]; do sleep 0.5; done
    applet=$(dx describe "$DX_JOB_ID" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["applet"])')
    name=$(dx describe "$applet" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["name"])')
    child=$(dx-jobutil-new-job child)
    dx-jobutil-add-output greeting "$child:greeting" --class=jobref
    dx-jobutil-add-output applet_name "$name"
}

child() {
    dx-jobutil-add-output greeting "from the subjob"
}
