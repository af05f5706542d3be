#!/bin/bash
# many_inputs: says what it was given; the TUI's tests look at the run form that its inputSpec makes.

main() {
    dx-jobutil-add-output summary "counts=${counts[*]} words=${words[*]} mode=${mode}" --class=string
}
