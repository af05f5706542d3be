#!/bin/bash
# hello_bash: reads the string input $who and outputs a greeting.

main() {
    echo "Greeting ${who}"
    greeting="Hello, ${who}!"
    echo "${greeting}"
    dx-jobutil-add-output greeting "${greeting}" --class=string
}
