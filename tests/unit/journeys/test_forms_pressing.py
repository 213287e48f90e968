"""Pressing a named submit button: its formaction replaces the form's action, and only
it is sent (Flask-Security's "Send Code" posts to /us-signin/send-code)."""

from __future__ import annotations

from authsurge.journeys import forms

PAGE = """<form action="/us-signin" method="post">
<input type="hidden" name="csrf_token" value="t">
<input type="text" name="identity"><input type="password" name="passcode">
<input type="submit" name="submit" value="Sign In">
<input type="radio" name="chosen_method" value="email">
<input type="submit" name="submit_send_code" value="Send Code" formaction="/us-signin/send-code">
</form>"""


def test_a_pressed_button_with_a_formaction_submits_there_and_alone():
    tree, charset = forms.parse(PAGE)
    form = forms.forms_in(tree, "http://127.0.0.1:5000/us-signin", charset)[0]
    pressed = form.pressing("submit_send_code", "http://127.0.0.1:5000/us-signin")
    assert pressed is not None and pressed.action == "http://127.0.0.1:5000/us-signin/send-code"
    names = [n for n, _ in pressed.fill({"identity": "a@b.test"})]
    assert "submit_send_code" in names and "submit" not in names
    assert form.action == "http://127.0.0.1:5000/us-signin"  # the page's form is unchanged
    assert form.pressing("no_such_button", "http://127.0.0.1:5000/") is None
