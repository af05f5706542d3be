"""Building what jobs run: applet objects from source folders, and the Docker images jobs run in."""
