#!/bin/bash
# file_pipeline: files in, files out. dx-download-all-inputs puts `reads` at ~/in/reads/<name> and
# `extras` at ~/in/extras/<NN>/<name> ($reads_path and the bash array $extras_path name them);
# count-lines comes from resources/usr/local/bin; dx-upload-all-outputs uploads ~/out/<output>/*.

main() {
    dx-download-all-inputs

    mkdir -p ~/out/report ~/out/copies
    count-lines "${reads_path}" "${extras_path[@]}" > ~/out/report/report.txt
    cat ~/out/report/report.txt
    cp "${reads_path}" "${extras_path[@]}" ~/out/copies/

    total_lines=$(awk '{ sum += $1 } END { print sum + 0 }' ~/out/report/report.txt)
    dx-upload-all-outputs
    dx-jobutil-add-output total_lines "${total_lines}" --class=int
}
