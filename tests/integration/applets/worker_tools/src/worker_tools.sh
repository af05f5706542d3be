#!/bin/bash
# Each tool does real work; a missing one stops the job ("command not found", set -e).
set -euo pipefail

main() {
    cd "$(mktemp -d)"
    report=report.txt
    printf 'chr1\t100\nchr2\t200\n' > table.tsv

    echo "file=$(gzip -c table.tsv > table.tsv.gz && file -b --mime-type table.tsv.gz)" >> $report
    echo "bc=$(echo '2^10 + 0.5 * 4' | bc)" >> $report
    echo "gawk=$(gawk -F'\t' '{ sum += $2 } END { print sum }' table.tsv)" >> $report
    zip -q table.zip table.tsv
    echo "zip_unzip=$(unzip -p table.zip table.tsv | wc -l)" >> $report
    echo "pigz=$(pigz -c table.tsv | gzip -dc | cut -f1 | paste -sd,)" >> $report
    echo "xz=$(xz -c table.tsv | xz -dc | md5sum | cut -c1-8)" >> $report
    echo "bzip2=$(bzip2 -c table.tsv | bunzip2 -c | md5sum | cut -c1-8)" >> $report
    echo "md5=$(md5sum < table.tsv | cut -c1-8)" >> $report
    echo "less=$(less -F table.tsv | tail -n 1 | cut -f2)" >> $report
    printf '#include <stdio.h>\nint main(void) { printf("%%d\\n", 6 * 7); return 0; }\n' > answer.c
    printf 'answer: answer.c\n\tgcc -O2 -o $@ $<\n' > Makefile
    make -s answer
    echo "make_gcc=$(./answer)" >> $report
    echo "pip=$(pip3 --version | cut -d' ' -f1)" >> $report
    python3 -m venv --without-pip venv
    echo "venv=$(venv/bin/python -c 'import sys; print(sys.prefix != sys.base_prefix)')" >> $report
    echo "time=$( { /usr/bin/time -f 'exit %x' true; } 2>&1 )" >> $report
    # wget against the engine's API, as a job reaches it: this job's own describe.
    token=$(jq -r .auth_token <<< "$DX_SECURITY_CONTEXT")
    url="$DX_APISERVER_PROTOCOL://$DX_APISERVER_HOST:$DX_APISERVER_PORT/$DX_JOB_ID/describe"
    echo "wget=$(wget -qO- --header "Authorization: Bearer $token" --header 'Content-Type: application/json' \
        --post-data '{"fields": {"id": true}}' "$url" | jq -r .id)" >> $report

    cat $report
    dx-jobutil-add-output report "$(cat $report)" --class=string
}
