"""Who may open a call and how many: per-call stream tokens, rate and call limits, client IPs, the deploy drain.

Sits between the routes (server.py) and the call (call/): the routes ask it, it answers allow or refuse.
"""
