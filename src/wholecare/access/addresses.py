"""Network addresses, kept only as keyed hashes: enough to count requests from one address (to
rate-limit a public form or the token endpoint), useless to identify anyone."""

import hashlib
import hmac

from django.conf import settings
from django.http import HttpRequest

from wholecare.access import forwarding


def address_hash(address: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"client:{address}".encode(), hashlib.sha256).hexdigest()


def client_address(request: HttpRequest) -> str:
    """The address the request came from, seen through the deployment's trusted reverse proxies
    (`WHOLECARE_TRUSTED_PROXIES`; see `forwarding`). Also django-axes's, for sign-in lockout."""
    return forwarding.client_address(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR", ""),
        settings.TRUSTED_PROXIES,
    )


def client_hash(request: HttpRequest) -> str:
    return address_hash(client_address(request))
