"""The `runner` command line: dx-like verbs over the engine's API, plus local host administration."""
