from __future__ import annotations

from email.message import EmailMessage

import pytest

from openhotline.intake.mailparse import parse_message, refang, sender_allowed, urls_in_text


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        ("See http://a.test/x.", ["http://a.test/x"]),
        ("(at https://a.test/p?q=1), and www.b.test/y!", ["https://a.test/p?q=1", "www.b.test/y"]),
        ("wiki http://a.test/Foo_(bar) here", ["http://a.test/Foo_(bar)"]),
        (
            "defanged hxxps://evil[.]test/a and hxxp://x(.)test",
            ["https://evil.test/a", "http://x.test"],
        ),
        ("<http://a.test/in-brackets>", ["http://a.test/in-brackets"]),
        ("no links here, just example.test", []),
    ],
)
def test_urls_are_found_in_running_text(text: str, urls: list[str]) -> None:
    assert urls_in_text(text) == urls


def test_refang_restores_the_dots_and_scheme() -> None:
    assert refang("hxxps://a[.]b[dot]test[:]8080") == "https://a.b.test:8080"


def test_urls_come_from_text_html_and_forwarded_messages_but_not_attachments() -> None:
    inner = EmailMessage()
    inner["From"] = "someone@else.test"
    inner["Subject"] = "fwd"
    inner.set_content("forwarded: http://forwarded.test/1")
    message = EmailMessage()
    message["From"] = "Trust Team <Trust@Partner.TEST>"
    message["Subject"] = "Two pages"
    message["Message-ID"] = "<abc@partner.test>"
    message.set_content("Plain: http://plain.test/1\nAgain http://plain.test/1")
    message.add_alternative(
        '<p>See <a href="https://html.test/link">this</a> and https://html.test/text</p>'
        "<script>var u='http://script.test/'</script>",
        subtype="html",
    )
    message.add_attachment(inner)
    message.add_attachment(
        b"http://attachment.test/no", maintype="application", subtype="octet-stream"
    )
    parsed = parse_message(message.as_bytes())
    assert parsed.sender == "trust@partner.test"
    assert parsed.message_id == "<abc@partner.test>" and parsed.subject == "Two pages"
    assert parsed.urls == [
        "http://plain.test/1",
        "https://html.test/link",
        "https://html.test/text",
        "http://forwarded.test/1",
    ]
    assert "Plain: http://plain.test/1" in parsed.text


def test_an_html_only_message_gives_its_visible_text() -> None:
    message = EmailMessage()
    message["From"] = "a@partner.test"
    message.set_content("<p>Look at <b>hxxp://a[.]test/x</b></p>", subtype="html")
    parsed = parse_message(message.as_bytes())
    assert parsed.urls == ["http://a.test/x"] and "Look at" in parsed.text


@pytest.mark.parametrize(
    ("sender", "allowed"),
    [
        ("alice@partner.test", True),
        ("bob@partner.test", True),
        ("carol@friend.test", True),
        ("dave@friend.test", False),
        ("eve@sub.partner.test", False),
        ("mallory@partner.test.evil.test", False),
        ("", False),
    ],
)
def test_only_senders_on_the_allow_list_are_accepted(sender: str, allowed: bool) -> None:
    assert sender_allowed(sender, ["@partner.test", "carol@friend.test"]) is allowed
