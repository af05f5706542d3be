"""The engine: job lifecycle, scheduling, job-based references, timeouts, restarts and tree termination."""
