"""`wholecare serve`: the app behind gunicorn, a production-grade WSGI server.

Static files are collected first so whitenoise can serve them with far-future cache headers. The
access
log is off: request lines carry URLs, and Wholecare keeps personal data out of logs.
"""

import argparse
import os
from collections.abc import Sequence
from typing import Any

from gunicorn.app.base import BaseApplication


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, application: Any, options: dict[str, Any]) -> None:
        self._application = application
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self._application


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="wholecare serve", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65535:
        parser.error(f"--port {args.port} is not a TCP port (1-65535)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wholecare.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("collectstatic", interactive=False, verbosity=0)
    from wholecare.wsgi import application

    print(f"Wholecare is serving on http://{args.host}:{args.port}/ (Ctrl+C stops it)", flush=True)
    _Server(
        application,
        {
            "bind": f"{args.host}:{args.port}",
            "workers": args.workers,
            "threads": args.threads,
            "worker_class": "gthread",
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "timeout": 60,
        },
    ).run()
    return 0
