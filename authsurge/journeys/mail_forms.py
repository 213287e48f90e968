"""The forms of the mail flows: the e-mail field, and the form that asks for an address
(sign-in by code, by link), pressed with the button a target wants pressed."""

from __future__ import annotations

from authsurge.journeys import forms
from authsurge.journeys.client import HttpClient
from authsurge.journeys.response import Response
from authsurge.rundir import records as record


def email_field(form: forms.Form, given: str | None) -> str | None:
    """The e-mail input: `given`, else type=email, else a name containing "email"."""
    if given:
        return given
    typed = [c.name for c in form.controls if c.kind == "email" and c.name]
    named = [c.name for c in form.controls if "email" in c.name.lower() and c.kind != "hidden"]
    found = typed or named
    return found[0] if found else None


def address_form(
    http: HttpClient, page: Response, given_field: str | None, button: str | None
) -> tuple[forms.Form, str]:
    """The form on `page` with an e-mail field (its name: `given_field` or guessed), as
    submitted with the submit button named `button` (its formaction followed), else with
    its default one; fails the page's step when there is none."""
    if page.status != 200:
        raise http.fail_status(page)
    tree, charset = forms.parse(page.body, page.content_type)
    candidates = forms.forms_in(tree, page.url, charset)
    # a POST form first: a page may carry a search or language form too
    for form in sorted(candidates, key=lambda f: f.method != "POST"):
        field = email_field(form, given_field)
        if field is None or field not in form.names():
            continue
        pressed = form.pressing(button, page.url) if button else form
        if pressed is not None:
            return pressed, field
    what = f" and a button named {button!r}" if button else ""
    raise http.fail(
        page, record.UNEXPECTED_PAGE, f"no form with an e-mail field{what} on {page.path}"
    )
