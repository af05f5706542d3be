#!/bin/bash
set -e -x -o pipefail

main() {
    dx-jobutil-add-output said "$greeting from python $(python3 -c 'import sys; print(sys.version_info[1])')" \
        --class=string
}
