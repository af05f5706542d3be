#!/bin/bash
# debug_fail: leaves marker.txt in its home folder, then fails with an AppError (for debug hold tests).

main() {
    echo "left for the debugger" > marker.txt
    dx-jobutil-report-error "failed on purpose" AppError
}
