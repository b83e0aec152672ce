"""WeasyPrint's only door to the outside: the app's own static files and assets named by trusted code.

Print templates carry user text (titles, opinions, names). Whatever it holds, WeasyPrint must not
reach the network or read other local files: every URL other than a file under an allowed root
(the app's ``static/`` folder) or an exact file registered for this render (seal and signature
images passed in the input dataclasses) is refused.
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger(__name__)


class FetchRefused(ValueError):
    pass


class RestrictedFetcher(URLFetcher):
    """Serves ``file:`` URLs under ``roots`` or in ``files``; refuses everything else."""

    def __init__(self, roots: list[Path], files: set[Path] | None = None):
        super().__init__(allowed_protocols={"file"}, allow_redirects=False, timeout=1)
        self.roots = [Path(r).resolve() for r in roots]
        self.files = {Path(f).resolve() for f in (files or set())}
        self.refused: list[str] = []
        self.served: list[str] = []

    def allow_file(self, path: str | Path) -> str:
        """Register one trusted asset for this render; returns its URL for the template."""
        p = Path(path).resolve()
        self.files.add(p)
        return p.as_uri()

    def _allowed(self, path: Path) -> bool:
        if path in self.files:
            return path.is_file()
        return path.is_file() and any(path.is_relative_to(r) for r in self.roots)

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            self.refused.append(url)
            raise FetchRefused(f"refused (not a local asset): {url[:200]}")
        path = Path(unquote(parts.path)).resolve()
        if not self._allowed(path):
            self.refused.append(url)
            raise FetchRefused(f"refused (outside the app's assets): {url[:200]}")
        self.served.append(url)
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})
