"""The routes DNAnexus has no equivalent for, under /runner/: ping, jwks, build, shutdown, debugHold, shell
and logs (runner_routes), the store check POST /runner/fsck (maintenance), the event stream GET
/runner/events (events), and one job's or tree's log lines and states as a filter of that stream
(tree_stream), which /runner/logs and the job log websocket follow."""
