"""The terminal UI (textual): job trees, logs and actions, built on the engine's client and events alone."""
