#!/bin/bash
# dstat_worker: mode=public begins exactly as public applets do on a platform worker, then does some work;
# mode=lines logs resource use every second until it is terminated; mode=bad gives dx-dstat a bad interval.
set -exo pipefail

main() {
    if [ "$mode" = public ]; then
        kill $(ps aux | grep pcp-dstat | head -n1 | awk '{print $2}')
        /usr/bin/dx-dstat 30
        public_work
    elif [ "$mode" = lines ]; then
        /usr/bin/dx-dstat 1
        sleep 3600
    else
        /usr/bin/dx-dstat abc
    fi
}

public_work() {
    # The killed logger must be reaped by the container's init: wait (patiently) until no zombie is left.
    for _ in $(seq 300); do
        zombies=$(ps -eo stat= | grep -c '^Z' || true)
        if [ "$zombies" = 0 ]; then break; fi
        sleep 0.1
    done
    loggers=$(pgrep -af '^pcp-dstat ' | sed 's/^[0-9]* //')
    logger=$(pgrep -f '^pcp-dstat ' | head -n1)
    if [ "$(readlink "/proc/$logger/fd/2")" = "$(readlink /proc/$$/fd/2)" ]; then
        logger_stderr=the-jobs
    else
        logger_stderr=its-own
    fi
    sum=$(seq 1 100 | awk '{ s += $1 } END { print s }')
    dx-jobutil-add-output loggers "$loggers" --class=string
    dx-jobutil-add-output zombies "$zombies" --class=string
    dx-jobutil-add-output logger_stderr "$logger_stderr" --class=string
    dx-jobutil-add-output sum "$sum" --class=int
}
