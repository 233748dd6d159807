"""Network addresses, kept only as keyed hashes: enough to count requests from one address (to
rate-limit a public form or the token endpoint), useless to identify anyone."""

import hashlib
import hmac

from django.conf import settings


def address_hash(address: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"client:{address}".encode(), hashlib.sha256).hexdigest()
