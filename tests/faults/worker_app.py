"""The app as a fault-test worker sees it: PDF rendering can be held at a gate file, so the test
kills the worker while it is inside a render."""

import os
import time
from pathlib import Path

from office import create_app
from office.pdf import service as pdf_service

_render = pdf_service._render_to_file


def _gated_render(row):
    gate = os.environ.get("OFFICE_TEST_PDF_GATE")
    if gate and os.path.exists(gate):
        Path(gate + ".inside").write_text(str(os.getpid()))
        while os.path.exists(gate):
            time.sleep(0.05)
    return _render(row)


pdf_service._render_to_file = _gated_render
app = create_app()
