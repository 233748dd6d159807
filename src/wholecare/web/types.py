from django.contrib.auth.models import User
from django.http import HttpRequest


class AuthenticatedHttpRequest(HttpRequest):
    """A request that LoginRequiredMiddleware has let through: its user is signed in."""

    user: User
