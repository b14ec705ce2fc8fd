"""A small website of generated, benign images for the demo.

It stands in for a reported site: a few pages with images in the kinds of
markup that the crawler must understand. Every image is drawn at start-up
(coloured shapes and the word DEMO), so nothing real is ever served.
"""

from __future__ import annotations

import io
import random
import threading
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


class _Handler(BaseHTTPRequestHandler):
    files: dict[str, tuple[str, bytes]] = {}

    def do_GET(self) -> None:
        entry = self.files.get(self.path.split("?")[0])
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


def start_demo_site(host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Serve the demo site in a daemon thread; returns the server (see ``server_address``)."""
    handler = type("DemoHandler", (_Handler,), {"files": build_site()})
    server = ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="demo-site").start()
    return server


def gallery_urls(server: ThreadingHTTPServer) -> list[str]:
    host, port = server.server_address[:2]
    if isinstance(host, bytes):
        host = host.decode()
    return [f"http://{host}:{port}/gallery/{page}" for page in range(PAGES)]
