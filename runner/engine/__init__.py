"""The engine: job lifecycle, scheduling, job-based references, timeouts, restarts and tree termination.

What the daemon that wires an engine needs besides `driver.Engine` is exported here, so that no other
package imports the engine's private modules.
"""

from runner.engine._container import Reachability
from runner.engine._resume import Restart, live_jobs

__all__ = ["Reachability", "Restart", "live_jobs"]
