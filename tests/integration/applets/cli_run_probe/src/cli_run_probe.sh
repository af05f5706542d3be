#!/bin/bash
# cli_run_probe: says what it was given; the tests look at the job's describe more than its output.

main() {
    echo "probe n=${n} label=${label}"
    dx-jobutil-add-output summary "${label}:${n}" --class=string
}
