"""The forms of the mail flows: the e-mail field, the form that asks for an address
(sign-in by code, by link) pressed with the button a target wants pressed, and asking
for the mail with it."""

from __future__ import annotations

from authsurge.journeys import forms
from authsurge.journeys.client import HttpClient, StepFailed
from authsurge.journeys.form_login import submit
from authsurge.journeys.response import Response
from authsurge.journeys.state import JourneyState
from authsurge.journeys.urls import resolve_url
from authsurge.rundir import records as record
from authsurge.secret import Secret


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


def ask_for_mail(
    state: JourneyState,
    step: str,
    url: str,
    given_field: str | None,
    button: str | None,
    fields: dict[str, str],
) -> tuple[Response, str]:
    """GET the page at `url` that asks for the person's address, submit it (with `fields`
    and `button`), and return the answer, not yet judged, and the address."""
    if state.account is None:
        raise StepFailed(step, record.UNEXPECTED_PAGE, "no account for this journey")
    http, email = state.http, state.account.username
    page = http.request(step, "GET", resolve_url(state.base_url, url))
    form, field = address_form(http, page, given_field, button)
    http.ok(page)
    values: dict[str, str | Secret] = dict(fields)
    values[field] = email
    return submit(http, step, form, form.fill(values), page.url), email
