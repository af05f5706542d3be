#!/bin/bash
# scatter_gather_bash: one `shout` subjob per word. An array:string input arrives as a bash array,
# so the words are "${words[@]}"; each subjob's output is added to main's output as a job-based
# reference ("job-xxxx:shouted"), in order.

main() {
    for word in "${words[@]}"; do
        job=$(dx-jobutil-new-job shout -i word:string="$word")
        echo "shouting ${word} in ${job}"
        dx-jobutil-add-output shouted "${job}:shouted" --class=jobref --array
    done
    dx-jobutil-add-output count "${#words[@]}" --class=int
}

shout() {
    shouted="$(echo "$word" | tr a-z A-Z)!"
    echo "${shouted}"
    dx-jobutil-add-output shouted "${shouted}" --class=string
}
