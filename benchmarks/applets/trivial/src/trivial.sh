#!/bin/bash
main() {
    echo hello
}
