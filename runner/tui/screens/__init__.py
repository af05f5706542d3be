"""The TUI's screens: the main screen, the confirmation and help dialogs."""
