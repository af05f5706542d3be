#!/bin/bash
# local_probe: what a job sees of its machine (the local backend's tests compare it with what they asked for).

main() {
    dx-jobutil-add-output nproc "$(nproc)" --class int
    dx-jobutil-add-output home "$HOME:$(pwd)" --class string
    dx-jobutil-add-output apiserver "$DX_APISERVER_HOST:$DX_APISERVER_PORT" --class string
    dx-jobutil-add-output six "$(python3 -c 'import six; print(six.__version__)')" --class string
    dx-jobutil-add-output resource "$(probe-tool)" --class string
}
