"""The TUI's widgets: the job tree, the detail pane, the applets panel."""
