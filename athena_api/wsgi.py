"""The WSGI application (gunicorn, or any WSGI server): `athena_api.wsgi:application`."""

from django.core.wsgi import get_wsgi_application

from athena_api import setup_django

setup_django()
application = get_wsgi_application()
