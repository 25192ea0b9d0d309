"""ICE servers for the browsers' WebRTC connections (STUN, TURN; TURN over TLS on 443 for hospital firewalls).

Static servers come from settings.ICE_SERVERS (with fixed TURN credentials if you must). With
TURN_SHARED_SECRET set, every page gets short-lived TURN credentials instead, in the format of coturn's
`use-auth-secret` REST API: username "<expiry>:<who>", password base64(HMAC-SHA1(secret, username)).
A leaked page then opens the relay only for a few hours.
"""

import base64
import hashlib
import hmac
import time

from django.conf import settings


def ice_servers_for(identity, *, with_turn=True, seconds=None):
    """`with_turn=False` for pages anyone can open: our relay is not for strangers."""
    servers = list(settings.ICE_SERVERS)
    secret = settings.TURN_SHARED_SECRET
    if with_turn and secret and settings.TURN_URLS:
        username = f"{int(time.time()) + (seconds or settings.TURN_CREDENTIAL_SECONDS)}:{identity}"
        digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
        servers.append({"urls": list(settings.TURN_URLS), "username": username,
                        "credential": base64.b64encode(digest).decode()})
    return servers
