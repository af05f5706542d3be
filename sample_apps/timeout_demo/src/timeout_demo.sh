#!/bin/bash
# timeout_demo: runSpec.timeoutPolicy gives main 0.1 minutes (6 s); it sleeps for 10 minutes.

main() {
    echo "sleeping for 600 s; the timeout is 6 s"
    sleep 600
}
