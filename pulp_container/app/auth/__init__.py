"""
Registry authentication and authorization.

`authorize(request, name, actions)` is the one check that pull and push handlers call; see
`access.py`. The token server lives in `server.py`, token signing and verification in
`tokens.py`, and the permission rules in `permissions.py`.
"""
