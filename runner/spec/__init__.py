"""The executable's contract: dxapp.json model and validation, instance types, policy resolution, IDs.

Pure: standard library only, no I/O beyond reading a source folder and the packaged catalog.
"""
