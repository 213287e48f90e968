"""WSGI entry point gunicorn serves (`authsurge.target.wsgi:application`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authsurge.target.settings")
application = get_wsgi_application()
