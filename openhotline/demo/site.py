"""A small website of generated, benign images for the demo.

It stands in for reported sites: a few pages with images in the kinds of
markup that the crawler must understand. Every image is drawn at start-up
(coloured shapes and the word DEMO), so nothing real is ever served. The
same pages are served on each demo hoster's loopback address
(``demo/hosts.py``), and a hoster takes down the pages a notice names
(``DemoSite.take_down``), so the re-checks can see a removal.
"""

from __future__ import annotations

import io
import random
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image, ImageDraw

PAGES = 4
IMAGES_PER_PAGE = 6


def _draw(seed: int, size: tuple[int, int] = (480, 360)) -> bytes:
    rng = random.Random(seed)  # noqa: S311  (drawing shapes, not secrets)
    image = Image.new("RGB", size, tuple(rng.randrange(40, 220) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = rng.randrange(size[0]), rng.randrange(size[1])
        x1, y1 = x0 + rng.randrange(20, 200), y0 + rng.randrange(20, 200)
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
    draw.text((10, 10), f"DEMO {seed}", fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def build_site() -> dict[str, tuple[str, bytes]]:
    files: dict[str, tuple[str, bytes]] = {}
    for page in range(PAGES):
        items = []
        for i in range(IMAGES_PER_PAGE):
            seed = page * 100 + i
            name = f"/img/{seed}.jpg"
            files[name] = ("image/jpeg", _draw(seed))
            if i % 3 == 0:
                items.append(f'<img src="{name}" alt="">')
            elif i % 3 == 1:
                items.append(f'<img data-src="{name}" class="lazy" alt="">')
            else:
                items.append(f'<div style="background-image:url({name})"></div>')
        html = (
            "<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>Demo gallery {page}</title>"
            f"<meta property='og:image' content='/img/{page * 100}.jpg'></head><body>"
            f"<h1>Demo gallery {page}</h1>{''.join(items)}</body></html>"
        )
        files[f"/gallery/{page}"] = ("text/html; charset=utf-8", html.encode())
    return files


@dataclass
class DemoSite:
    """The pages, and which (host, path) pairs their hosters have taken down."""

    files: dict[str, tuple[str, bytes]] = field(default_factory=build_site)
    removed: set[tuple[str, str]] = field(default_factory=set)
    servers: list[ThreadingHTTPServer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def page(self, host: str, path: str) -> tuple[str, bytes] | None:
        with self.lock:
            if (host.lower(), path) in self.removed:
                return None
        return self.files.get(path)

    def take_down(self, text: str) -> list[str]:
        """Remove every page of this site that ``text`` (a notice) names; returns their URLs."""
        gone = []
        for match in _URL.finditer(text):
            host, path = match["host"].lower(), match["path"]
            if path in self.files and any(
                s.server_address[1] == int(match["port"]) for s in self.servers
            ):
                with self.lock:
                    self.removed.add((host, path))
                gone.append(match[0])
        return gone

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


_URL = re.compile(r"http://(?P<host>[a-z0-9.-]+):(?P<port>\d+)(?P<path>/[^\s<>\"']*)", re.I)


class _Handler(BaseHTTPRequestHandler):
    site: DemoSite

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        entry = self.site.page(host, self.path.split("?")[0])
        if entry is None:
            self.send_error(404)
            return
        content_type, body = entry
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


def start_demo_site(addresses: tuple[str, ...] = ("127.0.0.1",), port: int = 0) -> DemoSite:
    """Serve the demo site on each address (one port for all) in daemon threads."""
    site = DemoSite()
    handler = type("DemoHandler", (_Handler,), {"site": site})
    for address in addresses:
        server = ThreadingHTTPServer((address, port), handler)
        port = int(server.server_address[1])
        site.servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True, name="demo-site").start()
    return site


def gallery_urls(host: str, port: int) -> list[str]:
    return [f"http://{host}:{port}/gallery/{page}" for page in range(PAGES)]
