"""`wholecare fhir-client register|list|deactivate`: OAuth2 clients of the FHIR API (decisions
0007 and 0012), for the administrator who registers them."""

import argparse
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from wholecare.directory.models import Staff
from wholecare.fhir.auth import InvalidClient, client_register
from wholecare.fhir.models import ApiClient
from wholecare.fhir.scopes import InvalidScope


class Command(BaseCommand):
    help = "Register, list and switch off OAuth2 clients of the FHIR API."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        register = actions.add_parser(
            "register",
            help="Register a client; its secret is printed once and never stored.",
        )
        register.add_argument("--name", required=True, help="Shown to people on the consent page.")
        register.add_argument(
            "--as",
            dest="username",
            required=True,
            help="The member of staff (or service account) client credentials tokens act as;"
            " apps a person approves act as that person instead.",
        )
        register.add_argument(
            "--scopes", required=True, help='The SMART scopes it may be granted, e.g. "user/*.rs".'
        )
        register.add_argument(
            "--redirect-uri",
            dest="redirect_uris",
            action="append",
            default=[],
            help="For SMART App Launch: an exact redirect URI (repeat for more).",
        )
        register.add_argument(
            "--public",
            action="store_true",
            help="An app that cannot keep a secret: no secret, PKCE only, no client credentials.",
        )
        actions.add_parser("list", help="Every client: id, name, scopes, redirect URIs, state.")
        deactivate = actions.add_parser(
            "deactivate", help="Switch a client off: its tokens stop working at once."
        )
        deactivate.add_argument("client_id")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "register":
            self._register(options)
        elif action == "list":
            for client in ApiClient.objects.order_by("created_at"):
                state = "active" if client.active else "switched off"
                kind = "public" if client.public else "confidential"
                uris = " ".join(client.redirect_uri_list) or "-"
                self.stdout.write(
                    f"{client.client_id}\t{client.name}\t{kind}\t{client.allowed_scopes}\t{uris}"
                    f"\t{state}"
                )
        else:
            changed = ApiClient.objects.filter(client_id=options["client_id"]).update(active=False)
            if not changed:
                raise CommandError(f"There is no client {options['client_id']}")
            self.stdout.write(f"Switched off {options['client_id']}")

    def _register(self, options: dict[str, Any]) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        staff = Staff.objects.filter(user=user).first() if user is not None else None
        if staff is None:
            raise CommandError(
                f"--as {options['username']}: there is no member of staff by that name"
            )
        try:
            client, secret = client_register(
                name=options["name"],
                staff=staff,
                allowed_scopes=options["scopes"],
                redirect_uris=options["redirect_uris"],
                public=options["public"],
            )
        except (InvalidScope, InvalidClient) as problem:
            raise CommandError(str(problem)) from None
        self.stdout.write(f"client_id: {client.client_id}")
        if secret:
            self.stdout.write(f"client_secret: {secret}  (shown only this once)")
