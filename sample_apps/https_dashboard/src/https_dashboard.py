"""https_dashboard: serves the job's ID and state on port 443 until the job is terminated."""

import html
import http.server
import os
import time

import dxpy

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Job {job}</title></head>
<body>
<h1>HTTPS dashboard</h1>
<p>Job <span id="job">{job}</span> is <span id="state">{state}</span>.</p>
<p id="rendered">not rendered by a browser</p>
<script>document.getElementById("rendered").textContent = "rendered by the browser";</script>
</body></html>
"""


class Dashboard(http.server.BaseHTTPRequestHandler):
    """One page: the job's ID and its state as describe gives it now."""

    def do_GET(self):
        job = os.environ["DX_JOB_ID"]
        state = dxpy.DXJob(job).describe(fields={"state": True})["state"]
        body = PAGE.format(job=html.escape(job), state=html.escape(state)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def hold_until_go():
    """Until the job's property `go` is `yes` (what a slow app's setup stands for)."""
    job = dxpy.DXJob(os.environ["DX_JOB_ID"])
    while job.describe(fields={"properties": True})["properties"].get("go") != "yes":
        time.sleep(0.5)


@dxpy.entry_point("main")
def main(wait_for_go=False):
    if wait_for_go:
        print("waiting for the property go=yes before listening")
        hold_until_go()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 443), Dashboard)
    print("listening on port 443")
    server.serve_forever()


dxpy.run()
