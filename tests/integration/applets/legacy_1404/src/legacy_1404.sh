#!/bin/bash
set -e -x -o pipefail

main() {
    dx-jobutil-add-output said "$greeting from python $(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
        --class=string
}
