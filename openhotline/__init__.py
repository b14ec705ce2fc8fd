"""openhotline: an open, self-hostable platform for internet hotlines."""

from __future__ import annotations

# Loading the Celery app with the package binds every @shared_task to it, in
# the web server and the CLI as in workers.
from openhotline.celery import app as celery_app

__all__ = ["celery_app"]
__version__ = "0.1.0"
