"""What a campaign's ``form`` column tells the agent's browser to show on a call (05-telephony rules).

- ``blank:https://...``: open the URL in a new browser tab after each connected call;
- ``https://...|Name|true``: show the URL inside the portal, titled Name, closable when the third part
  is ``true``;
- anything else that is not a URL: the name of a form of the product.

URLs must use https; plain http is refused (the rule of the product), and so is any other scheme.
"""

from __future__ import annotations

from typing import Any


def describe_form(raw: str | None) -> dict[str, Any] | None:
    """The form instruction for the browser, or None when the campaign has none."""
    text = (raw or "").strip()
    if not text:
        return None
    if text.lower().startswith("blank:"):
        url = text[len("blank:") :].strip()
        return _url_form("tab", url, "", closable=True, raw=text)
    parts = [part.strip() for part in text.split("|")]
    if "://" in parts[0] or parts[0].lower().startswith("http"):
        name = parts[1] if len(parts) > 1 else ""
        closable = len(parts) > 2 and parts[2].lower() == "true"
        return _url_form("iframe", parts[0], name, closable=closable, raw=text)
    return {"kind": "form", "name": text, "raw": text}


def _url_form(kind: str, url: str, name: str, *, closable: bool, raw: str) -> dict[str, Any]:
    if not url.lower().startswith("https://"):
        return {"kind": "blocked", "url": url, "reason": "form URLs must start with https://", "raw": raw}
    return {"kind": kind, "url": url, "name": name, "closable": closable, "raw": raw}
