#!/bin/bash
set -euo pipefail

main() {
    dx download "$reads" -o reads.txt
    sort reads.txt > sorted.txt
    sorted_id=$(dx upload sorted.txt --brief)
    dx-jobutil-add-output sorted "$sorted_id" --class=file
    dx-jobutil-add-output reads_name "$(dx describe "$reads" --name)" --class=string
}
