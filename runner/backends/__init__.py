"""Where jobs run: the Docker engine and the host's capacity (CPUs, memory, disk, GPUs)."""
