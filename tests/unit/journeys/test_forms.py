"""The form extractor on saved login, consent and logout pages (no server needed)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authsurge.journeys import forms
from authsurge.secret import Secret

HTML = Path(__file__).parent / "html"


def page(name: str, url: str = "http://127.0.0.1:8000/accounts/login/", content_type: str | None = None):
    tree, charset = forms.parse((HTML / name).read_bytes(), content_type)
    return tree, url, charset


def sent(form: forms.Form, values=None) -> list[tuple[str, str]]:
    return parse_qsl(form.encode(form.fill(values)).decode("ascii"), keep_blank_values=True,
                     encoding=form.charset)


def test_django_login_form_is_the_one_with_a_password_not_the_language_form():
    form = forms.login_form(*page("django_login.html"))
    assert form is not None
    assert form.action == "http://127.0.0.1:8000/accounts/login/"  # empty action: the page itself
    assert form.method == "POST"
    assert form.login_fields() == ("username", "password")
    assert sent(form, {"username": "user0001", "password": Secret("pw", "test")}) == [
        ("csrfmiddlewaretoken", "Ab1&Cd2"),
        ("username", "user0001"),
        ("password", "pw"),
        ("next", "/o/authorize/?client_id=surge-public&state=x%20y"),
    ]


def test_rails_login_skips_the_search_form_and_keeps_the_hidden_remember_me_default():
    form = forms.login_form(*page("rails_login.html"))
    assert form.action == "http://127.0.0.1:8000/users/sign_in"
    assert form.login_fields() == ("user[email]", "user[password]")
    pairs = sent(form, {"user[email]": "a@example.org", "user[password]": "pw"})
    assert ("authenticity_token", "rails+TOKEN/==") in pairs
    assert ("user[remember_me]", "0") in pairs  # unchecked box: only the hidden default is sent
    assert ("user[remember_me]", "1") not in pairs
    assert ("commit", "Log in") in pairs  # the named submit button, as a browser sends it


def test_laravel_relative_action_resolves_against_the_page_url():
    form = forms.login_form(*page("laravel_login.html", url="http://127.0.0.1:8000/auth/form/"))
    assert form.action == "http://127.0.0.1:8000/auth/login"
    assert form.login_fields() == ("email", "password")
    pairs = sent(form, {"email": "u@example.org", "password": "pw"})
    assert pairs[0] == ("_token", "lv_token_123")
    assert ("remember", "on") in pairs  # a checked box without value sends "on"


def test_spring_login_carries_the_csrf_input_after_the_password():
    form = forms.login_form(*page("spring_login.html"))
    assert form.login_fields() == ("username", "password")
    assert ("_csrf", "spring-csrf-5f0c") in sent(form)
    assert form.default_submit() is None  # a nameless button adds nothing


def test_first_password_form_wins_and_a_selector_overrides_it():
    tree, url, charset = page("multiple_forms.html")
    login = forms.login_form(tree, url, charset)
    assert login.action == "https://127.0.0.1:8443/session"  # absolute actions stay as they are
    assert login.login_fields() == ("login", "pass")
    signup = forms.login_form(tree, url, charset, selector="#signup")
    assert signup.action == "http://127.0.0.1:8000/signup"
    assert signup.login_fields() == ("signup_email", "new_password")
    # a selector that matches a control finds the form around it
    by_field = forms.find_form(tree, url, charset, selector="input[name=new_password_again]")
    assert by_field.action == signup.action


def test_configured_field_names_override_the_guess():
    tree, url, charset = page("multiple_forms.html")
    form = forms.login_form(tree, url, charset, selector="#signup")
    assert form.login_fields("signup_email", "new_password_again") == ("signup_email", "new_password_again")


def test_page_without_a_form_yields_none():
    tree, url, charset = page("no_form.html")
    assert forms.login_form(tree, url, charset) is None
    assert forms.forms_in(tree, url, charset) == []
    assert forms.find_form(tree, url, charset, selector="form.nothing") is None


def test_latin1_page_entities_and_every_control_kind():
    tree, url, charset = page("latin1_login.html", url="http://127.0.0.1:8000/cgi/index.html")
    assert charset == "cp1252"  # from <meta http-equiv>, read as browsers read Latin-1
    form = forms.login_form(tree, url, charset)
    assert form.action == "http://127.0.0.1:8000/cgi/login.cgi?lang=fr"  # fragment dropped
    assert form.login_fields() == ("user", "pw")
    fields = dict(form.fields())
    assert fields["token"] == "café & crème 'q' \"x\""
    assert fields["raw"] == "déjà vu"
    assert "off" not in fields  # disabled
    assert "remember" not in fields and fields["terms"] == "yes"
    assert fields["mode"] == "b"
    assert fields["realm"] == "Main office"  # option text, whitespace collapsed
    assert fields["tz"] == "cet"
    assert fields["empty"] == ""
    assert fields["note"] == "line <1>\nline 2"
    assert not {"go", "clear", "js"} & set(fields)
    assert form.default_submit().name == "go"  # an image button is a submit button
    body = form.encode(form.fill({"user": "zoë", "pw": Secret("Grüße€", "test")}, submit=False))
    # the page's charset is used on the wire, like a browser would
    assert b"user=zo%EB" in body and b"pw=Gr%FC%DFe%80" in body


def test_charset_header_wins_over_meta():
    tree, url, charset = page("latin1_login.html", content_type="text/html; charset=UTF-8")
    assert charset == "utf-8"
    assert dict(forms.login_form(tree, url, charset).fields())["raw"] == "d\ufffdj\ufffd vu"


def test_consent_form_submits_the_named_allow_button_not_the_nameless_cancel():
    tree, url, charset = page("dot_consent.html", url="http://127.0.0.1:8000/o/authorize/?client_id=x")
    form = forms.find_form(tree, url, charset, password=False)
    assert form.action == "http://127.0.0.1:8000/o/authorize/?client_id=x"
    pairs = sent(form)
    assert ("allow", "Authorize") in pairs and ("csrfmiddlewaretoken", "consent-csrf") in pairs
    assert not any(v == "Cancel" for _, v in pairs)


def test_buttons_outside_the_form_that_point_at_it_belong_to_it():
    tree, url, charset = page("logout_confirm.html", url="http://127.0.0.1:3000/session/end?x=1")
    form = forms.find_form(tree, url, charset)
    assert form.action == "http://127.0.0.1:3000/session/end/confirm"
    assert sent(form) == [("xsrf", "9f8e7d"), ("logout", "yes")]


def test_fill_replaces_the_first_field_of_a_name_and_drops_its_duplicates():
    form = forms.Form(action="http://127.0.0.1/", method="POST", controls=[
        forms.Control("a", "hidden", "1"), forms.Control("a", "hidden", "2"), forms.Control("b", "text", "")])
    assert form.fill({"a": "x", "c": "new"}) == [("a", "x"), ("b", ""), ("c", "new")]


def test_secrets_stay_hidden_until_encoded():
    form = forms.Form(action="http://127.0.0.1/", method="POST", controls=[forms.Control("p", "password", "")])
    pairs = form.fill({"p": Secret("hunter2", "test")})
    assert "hunter2" not in repr(pairs)
    assert form.encode(pairs) == b"p=hunter2"


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\x00"), max_size=40))
def test_any_escaped_hidden_value_comes_back_unchanged(value):
    import html

    tree, charset = forms.parse(
        f'<form method=post><input type=hidden name=t value="{html.escape(value)}">'
        '<input type=password name=p></form>'.encode())
    form = forms.login_form(tree, "http://127.0.0.1/", charset)
    assert dict(form.fields())["t"] == value


@pytest.mark.parametrize("content_type, body, expected", [
    ("text/html; charset=ISO-8859-15", b"", "iso8859-15"),
    ("text/html", b"<meta charset='windows-1251'>", "cp1251"),
    (None, b"<meta charset=bogus-enc>", "utf-8"),
    (None, b"<p>no hint</p>", "utf-8"),
])
def test_charset_detection(content_type, body, expected):
    assert forms.charset_of(body, content_type) == expected
