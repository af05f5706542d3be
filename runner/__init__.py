"""applet-runner: run DNAnexus applets and apps locally, each job in its own Docker container."""

__version__ = "0.1.0"
