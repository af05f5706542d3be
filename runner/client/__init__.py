"""Clients of the engine's HTTP API: the typed API client and the engine daemon's process control.

Used by the command line, the TUI and watch mode; never imports the engine side.
"""
