#!/bin/bash
# typed_inputs: joins its inputs; the tests only look at how /applet-xxxx/run checks them.

main() {
    dx-jobutil-add-output summary "${label}:${n}:${color}" --class=string
}
