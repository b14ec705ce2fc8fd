"""What a hotline needs from a report e-mail: who sent it, its text, and the URLs in it.

URLs are taken from text and HTML bodies (links and visible text), from
forwarded messages inside it too. Partners often "defang" URLs so that no
one clicks them by accident (``hxxps://example[.]com``); those are read
back to the real URL. Attachments are not read: the raw message is kept as
evidence instead.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from html.parser import HTMLParser

_URL_RE = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'`\\^{}|]+")
_DEFANG = [
    (re.compile(r"(?i)\bhxxp(s?)://"), r"http\1://"),
    (re.compile(r"\[\.\]|\(\.\)|\[dot\]", re.IGNORECASE), "."),
    (re.compile(r"\[:\]"), ":"),
]
_TRAILING = ".,;:!?'\"*>"
MAX_TEXT = 10_000


@dataclass
class ParsedMail:
    message_id: str
    sender: str
    subject: str
    text: str
    urls: list[str] = field(default_factory=list)


def refang(text: str) -> str:
    for pattern, replacement in _DEFANG:
        text = pattern.sub(replacement, text)
    return text


def urls_in_text(text: str) -> list[str]:
    """URLs in running text, without the punctuation that ends a sentence around them."""
    found = []
    for match in _URL_RE.finditer(refang(text)):
        url = match.group()
        while url and (
            url[-1] in _TRAILING
            or (url[-1] == ")" and url.count("(") < url.count(")"))
            or (url[-1] == "]" and url.count("[") < url.count("]"))
        ):
            url = url[:-1]
        if url:
            found.append(url)
    return found


class _HtmlReader(HTMLParser):
    """Link targets and visible text of an HTML body (scripts and styles skipped)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        if tag in {"a", "area"}:
            href = dict(attrs).get("href") or ""
            if href.lower().startswith(("http://", "https://", "hxxp")):
                self.links.append(href.strip())
        if tag in {"br", "p", "div", "li", "tr"}:
            self.text.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def read_html(html: str) -> tuple[list[str], str]:
    reader = _HtmlReader()
    reader.feed(html)
    reader.close()
    return [refang(link) for link in reader.links], "".join(reader.text)


def parse_message(raw: bytes) -> ParsedMail:
    """Read sender, subject, body text and URLs (in order of appearance, without repeats)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(message, EmailMessage):  # policy.default always makes one
        raise TypeError(f"email parser gave a {type(message).__name__}, not an EmailMessage")
    addresses = getaddresses([str(message.get("From", ""))])
    sender = addresses[0][1].strip().lower() if addresses else ""
    texts: list[str] = []
    html_texts: list[str] = []
    urls: list[str] = []
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        content_type = part.get_content_type()
        if content_type not in {"text/plain", "text/html"}:
            continue
        body = _content(part)
        if content_type == "text/plain":
            texts.append(body)
            urls += urls_in_text(body)
        else:
            links, visible = read_html(body)
            html_texts.append(visible)
            urls += links + urls_in_text(visible)
    text = "\n\n".join(t.strip() for t in texts or html_texts if t.strip())
    return ParsedMail(
        message_id=_no_nul(str(message.get("Message-ID", "")).strip()),
        sender=_no_nul(sender),
        subject=_no_nul(str(message.get("Subject", "")).strip()),
        text=_no_nul(text[:MAX_TEXT]),
        urls=list(dict.fromkeys(urls)),
    )


def _no_nul(text: str) -> str:
    """NUL shown as U+FFFD: PostgreSQL cannot store it, and an e-mail report is not
    refused for it (the raw message is kept unchanged as the evidence)."""
    return text.replace("\x00", "\ufffd")


def _content(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError):
        # An unknown or lying charset: read what we can rather than lose the report.
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def sender_allowed(sender: str, allowed: list[str]) -> bool:
    """An exact address, or a domain written "@partner.example" (or "partner.example")."""
    if "@" not in sender:
        return False
    domain = sender.rsplit("@", 1)[1]
    for entry in (a.strip().lower() for a in allowed):
        if not entry:
            continue
        bare = entry.lstrip("@")
        if entry == sender or ("@" not in bare and bare == domain):
            return True
    return False
