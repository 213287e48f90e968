"""HTML form extraction: find a login (or consent, or logout) form on any page and fill it.

Generic on purpose: a login form is "the form with a password input", its fields are
"the password input and the text/email input before it", and what a browser would send
(hidden inputs such as CSRF tokens, checked boxes, selected options, textareas, the
default submit button) is carried over. Per-site differences are configuration
(`FormSpec`: selector, field names, extra fields), never code.

selectolax's lexbor backend does the parsing: about 30 µs for a login page, where
BeautifulSoup takes milliseconds, and this runs on the client's hot path.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urldefrag, urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from authsurge.journeys.urls import quote_value
from authsurge.secret import Secret

# Input types whose value a browser never submits as a plain field.
_NOT_SUBMITTED = frozenset(("submit", "image", "reset", "button", "file"))
_SUBMIT_TYPES = frozenset(("submit", "image"))
# Input types that may hold a username (the text-like input before the password input).
_USERNAME_TYPES = frozenset(("text", "email", "tel", ""))
_CONTROLS = "input, select, textarea, button"

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_CT_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)


@dataclass(slots=True)
class Control:
    """One named form control, as the page has it."""

    name: str
    kind: str  # input type ("text", "hidden", "password", "checkbox", ...), "select", "textarea", "button"
    value: str
    checked: bool = False  # checkboxes and radios
    disabled: bool = False
    formaction: str | None = None  # a submit button's own action (as written on the page)

    @property
    def is_submit(self) -> bool:
        return self.kind in _SUBMIT_TYPES or self.kind == "button"


@dataclass
class Form:
    """A form ready to submit: resolved action, method and the controls in document order."""

    action: str  # absolute URL, fragment removed
    method: str  # "GET" or "POST"
    controls: list[Control] = field(default_factory=list)
    enctype: str = "application/x-www-form-urlencoded"
    charset: str = "utf-8"  # browsers submit in the page's encoding
    id: str | None = None

    @property
    def has_password(self) -> bool:
        return any(c.kind == "password" for c in self.controls)

    def names(self) -> set[str]:
        return {c.name for c in self.controls}

    def pressing(self, button: str, page_url: str) -> Form | None:
        """This form as submitted with the named submit button: the button's formaction,
        if any, replaces the action, and no other submit button is sent; None when the
        form has no such button."""
        chosen = next((c for c in self.controls if c.is_submit and c.name == button), None)
        if chosen is None:
            return None
        action = self.action
        if chosen.formaction:
            action = urldefrag(urljoin(page_url, chosen.formaction.strip()))[0]
        controls = [c for c in self.controls if not c.is_submit or c is chosen]
        return replace(self, action=action, controls=controls)

    def default_submit(self) -> Control | None:
        """The submit button a person would press: the first *named* one.

        Why named: pages put the nameless "Cancel" / "No" first about as often as not
        (django-oauth-toolkit's consent and logout pages do), and a nameless button adds
        nothing to the request, so the first named button is the one that carries the
        intent ("allow", "accept", "logout=yes").
        """
        return next((c for c in self.controls if c.is_submit and c.name and not c.disabled), None)

    def fields(self) -> list[tuple[str, str]]:
        """What a browser submits before anything is typed: the successful controls."""
        out: list[tuple[str, str]] = []
        for c in self.controls:
            if c.disabled or not c.name or c.is_submit or c.kind in _NOT_SUBMITTED:
                continue
            if c.kind in ("checkbox", "radio") and not c.checked:
                continue
            out.append((c.name, c.value))
        return out

    def login_fields(
        self, username_field: str | None = None, password_field: str | None = None
    ) -> tuple[str | None, str | None]:
        """Names of the username and password fields: given, or guessed from the form.

        The password field is the first password input; the username field is the last
        text-like input before it (the layout of every login form seen so far), or the
        first one after it when nothing precedes it.
        """
        pw_index = None
        if password_field is None:
            for i, c in enumerate(self.controls):
                if c.kind == "password":
                    pw_index, password_field = i, c.name
                    break
        else:
            pw_index = next(
                (i for i, c in enumerate(self.controls) if c.name == password_field), None
            )
        if username_field is None:
            before = self.controls[:pw_index] if pw_index is not None else self.controls
            candidates = [c for c in before if c.kind in _USERNAME_TYPES and c.name]
            if candidates:
                username_field = candidates[-1].name
            elif pw_index is not None:
                after = [
                    c for c in self.controls[pw_index + 1 :] if c.kind in _USERNAME_TYPES and c.name
                ]
                username_field = after[0].name if after else None
        return username_field, password_field

    def fill(
        self, values: Mapping[str, str | Secret] | None = None, *, submit: bool = True
    ) -> list[tuple[str, str | Secret]]:
        """The pairs to send: successful controls, the default submit button, then `values`.

        A value replaces the first field of that name (later duplicates are dropped, as a
        typed-in value would win) or is appended when the form has no such field.
        Secrets stay `Secret` here; `encode` reveals them at the last moment.
        """
        pairs: list[tuple[str, str | Secret]] = list(self.fields())
        if submit:
            button = self.default_submit()
            if button is not None:
                pairs.append((button.name, button.value))
        if values:
            for name, value in values.items():
                index = next((i for i, (n, _) in enumerate(pairs) if n == name), None)
                if index is None:
                    pairs.append((name, value))
                else:
                    pairs[index] = (name, value)
                    pairs[index + 1 :] = [p for p in pairs[index + 1 :] if p[0] != name]
        return pairs

    def request(
        self, pairs: list[tuple[str, str | Secret]], page_url: str
    ) -> tuple[str, str, bytes | None, dict[str, str]]:
        """(method, url, body, headers) of submitting `pairs` from the page at `page_url`.

        Sent as a browser sends it: Origin and Referer of the page (Django checks them
        over https), urlencoded (multipart forms are rare on login pages and are sent
        urlencoded too).
        """
        encoded = self.encode(pairs)
        headers = {"Accept": "text/html,*/*", "Referer": page_url, "Origin": origin(page_url)}
        if self.method == "GET":
            action = self.action.split("?", 1)[0]  # a GET form replaces the action's query
            return "GET", action + "?" + encoded.decode("ascii"), None, headers
        return "POST", self.action, encoded, headers

    def encode(self, pairs: list[tuple[str, str | Secret]]) -> bytes:
        """urlencoded body (or query) in the page's charset; the one place a Secret is revealed."""
        # A character the charset cannot hold becomes a numeric character reference,
        # which is what browsers send.
        cs = self.charset
        return "&".join(
            f"{quote_value(n, cs)}=" + quote_value(v.reveal() if isinstance(v, Secret) else v, cs)
            for n, v in pairs
        ).encode("ascii")


# --- decoding and parsing ---------------------------------------------------------------


def charset_of(body: bytes, content_type: str | None) -> str:
    """The page's encoding: Content-Type charset, else a <meta> charset, else UTF-8."""
    if content_type:
        m = _CT_CHARSET.search(content_type)
        if m:
            return _known_charset(m.group(1))
    meta = _META_CHARSET.search(body[:2048])
    if meta:
        return _known_charset(meta.group(1).decode("ascii", "replace"))
    return "utf-8"


def _known_charset(name: str) -> str:
    try:
        found = codecs.lookup(name).name
    except LookupError:
        return "utf-8"  # an unknown label: read as UTF-8 with replacement, like browsers
    # Browsers read every Latin-1 label as windows-1252 (WHATWG Encoding), and so do we.
    return "cp1252" if found in ("latin-1", "iso8859-1", "ascii") else found


def decode(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """(text, charset) of an HTML body; undecodable bytes become U+FFFD rather than fail."""
    charset = charset_of(body, content_type)
    return body.decode(charset, "replace"), charset


def parse(html: str | bytes, content_type: str | None = None) -> tuple[LexborHTMLParser, str]:
    """Parse a page (bytes are decoded first: lexbor would read Latin-1 bytes as UTF-8)."""
    if isinstance(html, bytes):
        text, charset = decode(html, content_type)
    else:
        text, charset = html, "utf-8"
    return LexborHTMLParser(text), charset


def forms_in(tree: LexborHTMLParser, page_url: str, charset: str = "utf-8") -> list[Form]:
    """Every form on the page, in document order."""
    return [_form(tree, node, page_url, charset) for node in tree.css("form")]


def find_form(
    tree: LexborHTMLParser,
    page_url: str,
    charset: str = "utf-8",
    *,
    selector: str | None = None,
    password: bool | None = None,
    field_names: tuple[str, ...] = (),
) -> Form | None:
    """The form to submit on a page.

    selector: the first form matching this CSS selector (or containing the matched node).
    password: True = the first form with a password input; False = the first form
    without one. field_names: prefer a form that has one of these controls.
    """
    if selector:
        node = tree.css_first(selector)
        while node is not None and node.tag != "form":
            node = node.parent
        return _form(tree, node, page_url, charset) if node is not None else None
    candidates = forms_in(tree, page_url, charset)
    if password is not None:
        candidates = [f for f in candidates if f.has_password == password]
    if field_names:
        for f in candidates:
            if f.names().intersection(field_names):
                return f
    # A page may carry a search or language form too; a POST form is the likelier target.
    posts = [f for f in candidates if f.method == "POST"]
    chosen = posts or candidates
    return chosen[0] if chosen else None


def login_form(
    tree: LexborHTMLParser, page_url: str, charset: str = "utf-8", selector: str | None = None
) -> Form | None:
    """The login form: the one matching `selector`, else the first with a password input."""
    if selector:
        return find_form(tree, page_url, charset, selector=selector)
    return find_form(tree, page_url, charset, password=True)


def _form(tree: LexborHTMLParser, node: LexborNode, page_url: str, charset: str) -> Form:
    attrs = node.attributes
    action = (attrs.get("action") or "").strip()
    # An empty or missing action submits to the page itself (HTML spec), fragment removed.
    target = urljoin(page_url, action) if action else page_url
    method = (attrs.get("method") or "get").strip().upper()
    form = Form(
        action=urldefrag(target)[0],
        method="POST" if method == "POST" else "GET",
        enctype=(attrs.get("enctype") or "application/x-www-form-urlencoded").lower(),
        charset=_form_charset(attrs.get("accept-charset"), charset),
        id=attrs.get("id"),
    )
    nodes = node.css(_CONTROLS)
    if form.id:
        # Controls outside the form that point at it with form="id" (oidc-provider's
        # logout confirmation puts its buttons there).
        outside = tree.css(f'[form="{_css_string(form.id)}"]')
        if outside:
            seen = {n.mem_id for n in nodes}
            nodes = nodes + [n for n in outside if n.mem_id not in seen]
    for n in nodes:
        control = _control(n)
        if control is not None:
            form.controls.append(control)
    return form


def _control(n: LexborNode) -> Control | None:
    a = n.attributes
    name = a.get("name") or ""
    tag = n.tag
    disabled = "disabled" in a
    if tag == "input":
        kind = (a.get("type") or "text").strip().lower()
        if kind in ("checkbox", "radio"):
            value = a.get("value")
            return Control(
                name,
                kind,
                "on" if value is None else value,
                checked="checked" in a,
                disabled=disabled,
            )
        if not name and kind not in _SUBMIT_TYPES:
            return None
        return Control(
            name, kind, a.get("value") or "", disabled=disabled, formaction=a.get("formaction")
        )
    if not name and tag != "button":
        return None
    if tag == "select":
        return Control(name, "select", _selected(n), disabled=disabled)
    if tag == "textarea":
        text = n.text(deep=True)
        # HTML drops one newline right after <textarea>; lexbor already does.
        return Control(name, "textarea", text, disabled=disabled)
    if tag == "button":
        kind = (a.get("type") or "submit").strip().lower()
        if kind != "submit":
            return None
        return Control(
            name, "button", a.get("value") or "", disabled=disabled, formaction=a.get("formaction")
        )
    return None


def _selected(select: LexborNode) -> str:
    options = select.css("option")
    chosen = next((o for o in options if "selected" in o.attributes), None)
    if chosen is None:
        chosen = next((o for o in options if "disabled" not in o.attributes), None)
    if chosen is None:
        return ""
    value = chosen.attributes.get("value")
    # An option without a value attribute submits its text, whitespace collapsed.
    return value if value is not None else " ".join(chosen.text(deep=True).split())


def _form_charset(accept: str | None, page_charset: str) -> str:
    """A form's accept-charset (its first known name) wins over the page's encoding."""
    for name in (accept or "").replace(",", " ").split():
        try:
            codecs.lookup(name)
        except LookupError:
            continue
        return _known_charset(name)
    return page_charset


def origin(url: str) -> str:
    """scheme://host[:port] of a URL (the Origin header a browser sends)."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _css_string(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
