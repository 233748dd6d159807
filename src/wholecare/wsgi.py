"""WSGI entry point, served by gunicorn through `wholecare serve`."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wholecare.settings")
application = get_wsgi_application()
# Everything loaded so far lives as long as the worker: keep it out of the collector's full
# collections, which otherwise cost about a tenth of a second on one request in ten.
gc.freeze()
