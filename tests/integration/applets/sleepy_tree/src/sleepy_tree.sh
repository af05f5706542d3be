#!/bin/bash
# sleepy_tree: main starts two sleepers, then sleeps itself; the tree only ends when terminated.

main() {
    dx-jobutil-new-job sleeper --name sleeper-1
    dx-jobutil-new-job sleeper --name sleeper-2
    sleep 600
}

sleeper() {
    sleep 600
}
