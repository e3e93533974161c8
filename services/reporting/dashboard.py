"""The reporting dashboard (统计看板): one HTML page and its static assets, served by reporting itself.

County offices often sit on a government intranet, so nothing comes from a CDN: the charting library is
the ``plotly.min.js`` that plotly's wheel ships, served from here with long-lived caching. The page is
public; its JSON calls carry the caller's bearer token (from the URL fragment ``#token=…`` or a form), so
the token's region scope limits what it shows exactly as it limits the API.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from services.runtime.errors import NotFound

router = APIRouter(tags=["dashboard"])

AssetName = Annotated[str, Path(description="The file's name", examples=["plotly.min.js", "dashboard.js"])]

STATIC = FilePath(__file__).with_name("static")

#: What the page may load: only itself. Plotly sets inline styles on its SVG, hence 'unsafe-inline' for styles.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

_MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True)
class Asset:
    """One static file, fingerprinted so its URL changes whenever its bytes do (and may be cached for a year)."""

    name: str
    body: bytes
    media_type: str

    @cached_property
    def etag(self) -> str:
        """A digest of the bytes: the version in the URL and the HTTP validator."""
        return hashlib.sha256(self.body).hexdigest()[:16]

    @property
    def url(self) -> str:
        """Where the page loads it from."""
        return f"/dashboard/assets/{self.name}?v={self.etag}"

    @property
    def gzipped(self) -> bytes:
        """The bytes gzipped (computed once per process)."""
        return _gzip(self.body)


@cache
def _gzip(body: bytes) -> bytes:
    # Compressed once per process: plotly.min.js shrinks from about 4.6 MB to 1.4 MB, which matters on
    # a township's link to the county intranet.
    return gzip.compress(body, compresslevel=6, mtime=0)


def _plotly_js() -> bytes:
    """The plotly.js bundle inside the installed plotly package (no network, no CDN)."""
    return resources.files("plotly").joinpath("package_data", "plotly.min.js").read_bytes()


@cache
def assets() -> dict[str, Asset]:
    """The page's static files by name, read once per process."""
    found = {"plotly.min.js": Asset("plotly.min.js", _plotly_js(), _MEDIA_TYPES[".js"])}
    for path in sorted(STATIC.iterdir()):
        if path.suffix in _MEDIA_TYPES:
            found[path.name] = Asset(path.name, path.read_bytes(), _MEDIA_TYPES[path.suffix])
    return found


@cache
def page() -> str:
    """The dashboard HTML with every asset URL fingerprinted."""
    html = (STATIC / "dashboard.html").read_text(encoding="utf-8")
    for asset in assets().values():
        html = html.replace(f'"{asset.name}"', f'"{asset.url}"')
    return html


@router.get(
    "/dashboard",
    response_class=HTMLResponse,
    summary="The reporting dashboard (统计看板): open with #token=<bearer token>",
    responses={200: {"content": {"text/html": {"example": "<!doctype html>…"}}}},
)
async def dashboard() -> Response:
    return HTMLResponse(
        page(),
        headers={
            # The page is tiny; always revalidate so a deploy shows at once. Its assets are cached for a year.
            "Cache-Control": "no-cache",
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


@router.get(
    "/dashboard/assets/{name}",
    summary="A static file of the dashboard (its script, style sheet and plotly.min.js)",
    response_class=Response,
    responses={
        200: {"content": {"text/javascript": {"example": "…"}, "text/css": {"example": "…"}}},
        304: {"description": "Not modified (the ETag matched)"},
        404: {"description": "No such asset"},
    },
)
async def dashboard_asset(name: AssetName, request: Request) -> Response:
    asset = assets().get(name)
    if asset is None:
        raise NotFound(f"no dashboard asset named {name}", field="name")
    gzipped = "gzip" in request.headers.get("accept-encoding", "")
    # Each encoding is a different representation, so each gets its own validator.
    etag = f'"{asset.etag}-gz"' if gzipped else f'"{asset.etag}"'
    headers = {
        "ETag": etag,
        # Fingerprinted URLs never change content; an unversioned request still revalidates daily.
        "Cache-Control": "public, max-age=31536000, immutable"
        if request.query_params.get("v") == asset.etag
        else "public, max-age=86400",
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if gzipped:
        # The first compression of the plotly bundle takes a tenth of a second: keep it off the event loop.
        body = await asyncio.to_thread(lambda: asset.gzipped)
        return Response(body, media_type=asset.media_type, headers={**headers, "Content-Encoding": "gzip"})
    return Response(asset.body, media_type=asset.media_type, headers=headers)
