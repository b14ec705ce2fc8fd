"""Crawl throughput and recall: the openhotline engine against a naive fetcher.

Serves a generated site on 127.0.0.1 (threaded HTTP/1.1 server processes,
apart from the crawlers so they share no GIL) with a simulated network
latency on every response, then, in one run, measures:

1. one worker process running the engine over all pages;
2. two worker processes, each crawling half of the pages;
3. a naive sequential fetcher (urllib, one request at a time, `<img src>`
   found by regular expression), over a sample of the pages;

and prints pages/s, media/s, the ratios, and the recall of each against the
site's own list of the media on every page (goal: 1.0).

4. gallery recall: galleries of several pages linked by page numbers and
   "next" (one page behind a `<base href>`, one in Latin-1), each reported
   page crawled with the default link following (depth 1, 20 pages), and
   without it; tag links placed before the pagination compete for the page
   budget, so pagination must come first. Each page also links a mirror on
   another site ("Next »" at `mirror.invalid`) and two downloads (a ZIP of
   the album, an RSS feed): none of them may be fetched as a page.

    python benchmarks/crawl.py --galleries-only   # part 4 alone

    python benchmarks/crawl.py --help
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import multiprocessing as mp
import re
import socket
import struct
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

KINDS = [
    "img",
    "srcset-1x",
    "srcset-2x",
    "data-src",
    "data-srcset",
    "data-original",
    "picture-source",
    "picture-img",
    "poster",
    "video",
    "inline-style",
    "style-element",
    "stylesheet",
    "stylesheet-image-set",
    "og:image",
    "twitter:image",
    "a-href",
    "data-uri",
    "base-relative",
    "data-lazy-src",
]


def media_bytes(page: int, k: int, size: int) -> bytes:
    """Deterministic, unique bytes for media item k of a page (PNG, or MP4 for the video)."""
    tag = struct.pack(">II", page, k)
    if KINDS[k] == "video":
        head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    else:
        ihdr = b"IHDR" + struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
        head = (
            b"\x89PNG\r\n\x1a\n"
            + struct.pack(">I", 13)
            + ihdr
            + struct.pack(">I", zlib.crc32(ihdr))
        )
    return head + tag + bytes(max(0, size - len(head) - len(tag)))


def ext(k: int) -> str:
    return "mp4" if KINDS[k] == "video" else ("jpg" if k % 2 else "png")


def page_html(page: int, size: int) -> tuple[str, list[str]]:
    """The page's markup and the site's own list of its media (URL path, or sha256 of data:)."""
    p = f"/img/{page}/"
    u = [f"{p}{k}.{ext(k)}" for k in range(len(KINDS))]
    inline = base64.b64encode(media_bytes(page, 17, 200)).decode()
    expected = list(u)
    expected[17] = "sha256:" + hashlib.sha256(media_bytes(page, 17, 200)).hexdigest()
    use_base = page % 2 == 0
    rel18 = f"18.{ext(18)}" if use_base else u[18]
    base = f'<base href="{p}">' if use_base else ""
    html = f"""<!doctype html>
<html><head><meta charset="utf-8">{base}<title>Page {page}</title>
<meta property="og:image" content="{u[14]}"><meta name="twitter:image" content="{u[15]}">
<link rel="stylesheet" href="/css/{page}.css">
<style>.hero {{ background-image: url("{u[11]}"); }}</style></head>
<body><h1>Gallery {page}</h1>
<img src="{u[0]}" alt="a"><img src="{u[1]}" srcset="{u[1]} 1x, {u[2]} 2x">
<img data-src="{u[3]}" class="lazyload"><img data-srcset="{u[4]} 640w" class="lazy">
<img data-original="{u[5]}">
<picture><source srcset="{u[6]}" type="image/webp"><img src="{u[7]}"></picture>
<video controls poster="{u[8]}"><source src="{u[9]}" type="video/mp4"></video>
<div class="tile" style="background-image: url('{u[10]}')"></div>
<p><a href="{u[16]}">full size</a></p>
<img src="data:image/png;base64,{inline}">
<img src="{rel18}"><img data-lazy-src="{u[19]}">
<p>{"Lorem ipsum dolor sit amet. " * (size // 28)}</p>
</body></html>"""
    return html, expected


def stylesheet(page: int) -> str:
    p = f"/img/{page}/"
    return (
        f".card {{ background: url({p}12.{ext(12)}) no-repeat; }}\n"
        f'.retina {{ background-image: image-set("{p}13.{ext(13)}" 1x); }}\n'
    )


GALLERY_PAGES = 6  # pages per gallery
GALLERY_IMAGES = 4  # images per gallery page
GALLERY_TAGS = 25  # plain same-site links on each page, before the pagination
GALLERY_ZIP_BYTES = 200_000  # the album download each page links


def gallery_image(n: int, k: int) -> str:
    # Page 3 is Latin-1: its file names have a non-ASCII letter, sent as UTF-8 as browsers do.
    return f"ni%C3%B1o-{k}.png" if n == 3 else f"{k}.png"


def gallery_html(g: int, n: int) -> tuple[bytes, str, list[str]]:
    """Page n of gallery g: (body, content type, the gallery's own list of its media on it)."""
    folder = f"/gimg/{g}/{n}/"
    tags = "".join(f'<a href="/tag/{t}">tag {t}</a> ' for t in range(GALLERY_TAGS))
    # Before the tags, so that only their not being pages keeps them out of the budget.
    extras = (
        f'<a href="http://mirror.invalid/gallery/{g}/{n + 1}">Next »</a>'
        f' <a href="/gfiles/{g}/album.zip">Download all</a> <a href="/feed/{g}.rss">RSS</a> '
    )
    numbers = "".join(f'<a href="/gallery/{g}/{m}">{m}</a> ' for m in range(1, GALLERY_PAGES + 1))
    nxt = f'<a rel="next" href="/gallery/{g}/{n + 1}">Next »</a>' if n < GALLERY_PAGES else ""
    if n == 2:  # every image relative to <base href>
        head, srcs = f'<base href="{folder}">', [f"{k}.png" for k in range(GALLERY_IMAGES)]
    else:
        names = [gallery_image(n, k).replace("ni%C3%B1o", "niño") for k in range(GALLERY_IMAGES)]
        head, srcs = "", [folder + name for name in names]
    imgs = "".join(f'<img src="{src}">' for src in srcs)
    html = (
        f"<title>Galería {g}, página {n}</title>{head}<p>{extras}{tags}</p>{imgs}"
        f"<p>{numbers}{nxt}</p>"
    )
    expected = [folder + gallery_image(n, k) for k in range(GALLERY_IMAGES)]
    if n == 3:
        return html.encode("latin-1"), "text/html; charset=ISO-8859-1", expected
    return html.encode(), "text/html; charset=utf-8", expected


def make_handler(latency: float, media_size: int, page_size: int) -> type[BaseHTTPRequestHandler]:
    img_path = re.compile(r"^/img/(\d+)/(\d+)\.\w+$")
    gallery_path = re.compile(r"^/gallery/(\d+)/(\d+)$")
    gallery_img = re.compile(r"^/gimg/(\d+)/(\d+)/(?:ni%C3%B1o-)?(\d+)\.png$")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else every keep-alive response waits ~40 ms for an ACK

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            time.sleep(latency)
            path = self.path
            ctype = "text/html; charset=utf-8"
            if path.startswith("/page/") and path[6:].isdigit():
                body = page_html(int(path[6:]), page_size)[0].encode()
            elif path.startswith("/css/") and path[5:-4].isdigit():
                body, ctype = stylesheet(int(path[5:-4])).encode(), "text/css"
            elif match := gallery_path.match(path):
                body, ctype, _ = gallery_html(int(match.group(1)), int(match.group(2)))
            elif match := gallery_img.match(path):
                g, n, k = (int(x) for x in match.groups())
                body, ctype = media_bytes(100_000 + g * 100 + n, k, 2_000), "image/png"
            elif path.startswith("/tag/"):
                body = b"<title>tag</title><p>nothing here</p>"
            elif path.startswith("/gfiles/"):
                body, ctype = b"PK\x03\x04" + bytes(GALLERY_ZIP_BYTES - 4), "application/zip"
            elif path.startswith("/feed/"):
                body, ctype = (
                    b'<?xml version="1.0"?><rss version="2.0"></rss>',
                    "application/rss+xml",
                )
            elif match := img_path.match(path):
                page, k = int(match.group(1)), int(match.group(2))
                body = media_bytes(page, k, media_size)
                ctype = "video/mp4" if KINDS[k] == "video" else "image/png"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler


def serve(listener: socket.socket, latency: float, media_size: int, page_size: int) -> None:
    """One server process on the shared listening socket."""
    handler = make_handler(latency, media_size, page_size)
    httpd = ThreadingHTTPServer(listener.getsockname(), handler, bind_and_activate=False)
    httpd.socket.close()
    httpd.socket = listener
    httpd.daemon_threads = True
    httpd.request_queue_size = 512
    httpd.serve_forever(poll_interval=0.1)


def crawl_worker(
    base: str,
    pages: list[int],
    args: dict[str, int],
    ready: Any,
    go: Any,
    out: Any,
) -> None:
    """One worker process: a Crawler running several page crawls at once."""
    from openhotline.crawler.engine import Crawler, CrawlPolicy
    from openhotline.lib.netcheck import parse_allow_list
    from openhotline.lib.safehttp import FetchPolicy

    policy = CrawlPolicy(
        fetch=FetchPolicy(allow=parse_allow_list("127.0.0.1")),
        workers=args["threads"],
        per_host_concurrency=args["per_host"],
        keep_bytes=False,
    )
    with Crawler(policy) as crawler:
        ready.set()
        go.wait()
        started, cpu = time.monotonic(), time.process_time()
        with ThreadPoolExecutor(args["page_concurrency"]) as pool:
            results = list(pool.map(lambda n: crawler.crawl(f"{base}/page/{n}"), pages))
        elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
    found: dict[int, list[str]] = {}
    media = errors = 0
    for n, result in zip(pages, results, strict=True):
        media += sum(1 for item in result.media if item.error is None)
        errors += len(result.errors)
        found[n] = [
            "sha256:" + m.sha256 if m.url.startswith("data:") else m.url[len(base) :]
            for m in result.media
        ]
    out.put({"elapsed": elapsed, "cpu": cpu, "media": media, "errors": errors, "found": found})


def run_engine(base: str, pages: list[int], workers: int, args: dict[str, int]) -> dict[str, Any]:
    """Run `workers` processes over an even split of `pages`; wall time from a common start."""
    ctx = mp.get_context("spawn")
    go, out = ctx.Event(), ctx.Queue()
    procs, readies = [], []
    for w in range(workers):
        ready = ctx.Event()
        share = pages[w::workers]
        proc = ctx.Process(target=crawl_worker, args=(base, share, args, ready, go, out))
        proc.start()
        procs.append(proc)
        readies.append(ready)
    for ready in readies:
        ready.wait(60)
    started = time.monotonic()
    go.set()
    parts = [out.get(timeout=600) for _ in procs]
    wall = time.monotonic() - started
    for proc in procs:
        proc.join()
    found: dict[int, list[str]] = {}
    for part in parts:
        found.update(part["found"])
    return {
        "elapsed": wall,
        "pages": len(pages),
        "media": sum(p["media"] for p in parts),
        "errors": sum(p["errors"] for p in parts),
        "cpu": sum(p["cpu"] for p in parts),
        "found": found,
    }


def run_gallery(base: str, galleries: int, follow_depth: int) -> dict[str, Any]:
    """Crawl page 1 of each gallery; recall against every image on all its pages."""
    from openhotline.crawler.engine import Crawler, CrawlPolicy
    from openhotline.lib.netcheck import parse_allow_list
    from openhotline.lib.safehttp import FetchPolicy

    policy = CrawlPolicy(
        fetch=FetchPolicy(allow=parse_allow_list("127.0.0.1")),
        keep_bytes=False,
        follow_depth=follow_depth,  # the budget is the default (20 pages)
    )
    hit = total = pages = off_site = downloads = 0
    started = time.monotonic()
    with Crawler(policy) as crawler:
        for g in range(galleries):
            result = crawler.crawl(f"{base}/gallery/{g}/1")
            found = {m.url[len(base) :] for m in result.media if m.error is None}
            expected = {path for n in range(1, GALLERY_PAGES + 1) for path in gallery_html(g, n)[2]}
            hit, total = hit + len(expected & found), total + len(expected)
            pages += len(result.pages)
            off_site += sum(not p.url.startswith(base) for p in result.pages)
            downloads += sum(p.url.endswith((".zip", ".rss")) for p in result.pages)
    return {
        "recall": hit / total,
        "pages": pages,
        "off_site": off_site,
        "downloads": downloads,
        "elapsed": time.monotonic() - started,
    }


_IMG_SRC = re.compile(r"""<img[^>]+src=["']([^"']+)["']""", re.I)


def run_naive(base: str, pages: list[int]) -> dict[str, Any]:
    """Sequential urllib fetches, `<img src>` by regex: what a quick script does."""
    found: dict[int, list[str]] = {}
    media = 0
    started = time.monotonic()
    for n in pages:
        url = f"{base}/page/{n}"
        with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 - loopback only
            html = resp.read().decode("utf-8", "replace")
        found[n] = []
        for src in _IMG_SRC.findall(html):
            if src.startswith("data:"):
                continue
            absolute = urllib.parse.urljoin(url, src)  # no <base href>: naive
            try:
                with urllib.request.urlopen(absolute, timeout=30) as resp:  # noqa: S310
                    resp.read()
            except urllib.error.URLError:
                continue
            media += 1
            found[n].append(absolute[len(base) :])
    return {
        "elapsed": time.monotonic() - started,
        "pages": len(pages),
        "media": media,
        "found": found,
    }


def recall(found: dict[int, list[str]], page_size: int) -> float:
    hit = total = 0
    for n, items in found.items():
        expected = set(page_html(n, page_size)[1])
        total += len(expected)
        hit += len(expected & set(items))
    return hit / total if total else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=200, help="pages on the site (20 media each)")
    parser.add_argument(
        "--naive-pages", type=int, default=20, help="pages the naive fetcher crawls"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=40.0, help="simulated latency per response"
    )
    parser.add_argument("--media-size", type=int, default=20_000, help="bytes per media item")
    parser.add_argument(
        "--page-size", type=int, default=8_000, help="approximate bytes of text per page"
    )
    parser.add_argument("--server-procs", type=int, default=2, help="server processes")
    parser.add_argument("--threads", type=int, default=48, help="fetch threads per worker")
    parser.add_argument("--per-host", type=int, default=48, help="per-host concurrency per worker")
    parser.add_argument(
        "--page-concurrency", type=int, default=8, help="pages crawled at once per worker"
    )
    parser.add_argument(
        "--galleries", type=int, default=10, help=f"galleries of {GALLERY_PAGES} pages each"
    )
    parser.add_argument(
        "--galleries-only", action="store_true", help="measure the gallery recall (4.) alone"
    )
    opts = parser.parse_args()

    listener = socket.create_server(("127.0.0.1", 0), backlog=512)
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    fork = mp.get_context("fork")
    servers = [
        fork.Process(
            target=serve,
            args=(listener, opts.latency_ms / 1000, opts.media_size, opts.page_size),
            daemon=True,
        )
        for _ in range(opts.server_procs)
    ]
    for proc in servers:
        proc.start()
    args = {
        "threads": opts.threads,
        "per_host": opts.per_host,
        "page_concurrency": opts.page_concurrency,
    }
    pages = list(range(opts.pages))
    try:
        followed = run_gallery(base, opts.galleries, follow_depth=1)
        unfollowed = run_gallery(base, opts.galleries, follow_depth=0)
        if not opts.galleries_only:
            one = run_engine(base, pages, 1, args)
            two = run_engine(base, pages, 2, args)
            naive = run_naive(base, pages[: opts.naive_pages])
    finally:
        for proc in servers:
            proc.terminate()

    print_galleries(opts.galleries, followed, unfollowed)
    if opts.galleries_only:
        return
    print(
        f"site: {opts.pages} pages x {len(KINDS)} media (srcset, lazy attributes, picture, video,"
        " CSS backgrounds, stylesheet url(), og:image, data: URIs, <base href>)"
    )
    print(
        f"simulated network latency: {opts.latency_ms:g} ms per response, served by"
        f" {opts.server_procs} threaded server processes on 127.0.0.1"
    )
    print(
        f"engine worker: {opts.threads} fetch threads, per-host limit {opts.per_host},"
        f" {opts.page_concurrency} pages at once"
    )
    rows = [("engine, 1 worker", one), ("engine, 2 workers", two), ("naive sequential", naive)]
    print(
        f"{'run':<20}{'pages':>7}{'media':>8}{'seconds':>9}{'pages/s':>10}{'media/s':>10}{'recall':>8}"
    )
    for name, r in rows:
        print(
            f"{name:<20}{r['pages']:>7}{r['media']:>8}{r['elapsed']:>9.2f}"
            f"{r['pages'] / r['elapsed']:>10.1f}{r['media'] / r['elapsed']:>10.1f}"
            f"{recall(r['found'], opts.page_size):>8.3f}"
        )

    def rate(r: dict[str, Any], what: str) -> float:
        return r[what] / r["elapsed"]

    print(
        f"1 worker vs naive: {rate(one, 'pages') / rate(naive, 'pages'):.1f}x pages/s,"
        f" {rate(one, 'media') / rate(naive, 'media'):.1f}x media/s (goal >= 10x)"
    )
    print(
        f"2 workers vs 1: {rate(two, 'pages') / rate(one, 'pages'):.2f}x pages/s,"
        f" {rate(two, 'media') / rate(one, 'media'):.2f}x media/s (goal >= 1.7x)"
    )
    print(
        f"engine errors: 1 worker {one['errors']}, 2 workers {two['errors']};"
        f" worker CPU per fetched item: {one['cpu'] / one['media'] * 1000:.2f} ms"
    )


def print_galleries(galleries: int, followed: dict[str, Any], unfollowed: dict[str, Any]) -> None:
    print(
        f"gallery recall ({galleries} galleries x {GALLERY_PAGES} pages x {GALLERY_IMAGES}"
        f" images, {GALLERY_TAGS} tag links, an off-site mirror and two downloads before the"
        " pagination; page 2 <base href>, page 3 Latin-1; page 1 reported):"
    )
    for name, r in (
        ("following links (depth 1, 20 pages)", followed),
        ("not following", unfollowed),
    ):
        print(
            f"  {name}: recall {r['recall']:.3f}, {r['pages']} documents,"
            f" {r['off_site']} off-site, {r['downloads']} downloads, {r['elapsed']:.2f} s"
        )
    print("  goals: recall 1.0 following links; 0 off-site documents and 0 downloads fetched")


if __name__ == "__main__":
    main()
