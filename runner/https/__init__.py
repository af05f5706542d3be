"""HTTPS apps: the engine's authenticating proxy in front of the ports a job's `httpsApp` opens.

`hosts.py` names each job's origins, `sessions.py` holds login codes and browser sessions, `_wire.py` reads and
writes HTTP/1.1 heads, `pages.py` words the proxy's own answers, `upstream.py` reaches the app through the
launcher's socket in the job folder, `proxy.py` serves it all, `describe.py` is describe's `httpsApp`.
"""
