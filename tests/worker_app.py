"""The app as the test worker process sees it: the real app plus the test job handlers."""

from office import create_app
from tests import test_jobs  # noqa: F401  (registers the test.* job handlers)

app = create_app()
