main() {
  dx-jobutil-add-output greeting "Hello, $who" --class=string
}
