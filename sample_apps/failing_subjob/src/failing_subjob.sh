#!/bin/bash
# failing_subjob: `explode` fails after 2 s with an AppError; the failure spreads through the job tree:
# `linger` (still sleeping) is terminated and main fails, naming explode in failureFrom.

main() {
    explode_job=$(dx-jobutil-new-job explode)
    linger_job=$(dx-jobutil-new-job linger)
    echo "started explode (${explode_job}) and linger (${linger_job})"
    dx-jobutil-add-output result "${explode_job}:result" --class=jobref
}

explode() {
    sleep 2
    dx-jobutil-report-error "the input was not good enough" AppError
}

linger() {
    sleep 300
    dx-jobutil-add-output result "lingered" --class=string
}
