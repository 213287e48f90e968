"""Sign-in by e-mailed link ("magic link", --signup): django-sesame's tokens, mounted by
authsurge.target.urls under /accounts/magic/ (this module is that URLconf).

- `GET/POST /accounts/magic/` asks for an address. The POST mails a sign-in link to the
  account whose verified address it is (allauth's EmailAddress, any case), and nothing to
  any other address, with the same 302 to /accounts/magic/sent/ either way: nobody learns
  which addresses have accounts.
- `GET /accounts/magic/login/?sesame=<token>` is sesame's own LoginView: it signs in and
  redirects to LOGIN_REDIRECT_URL, or raises PermissionDenied (403) for a made-up, used or
  expired token.

sesame makes and checks the tokens (SESAME_MAX_AGE, SESAME_ONE_TIME in the settings);
nothing here reads one. The token travels in the query, which the target's logs leave out.
Only imported with --signup (it needs allauth's models).
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django import forms
from django.conf import settings
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods
from django.views.generic import TemplateView
from sesame.utils import get_query_string
from sesame.views import LoginView

SUBJECT = "Your sign-in link"


class MagicLinkForm(forms.Form):
    email = forms.EmailField(max_length=254)


def lifetime(seconds: int) -> str:
    """'10 minutes', '1 minute', '90 seconds': how long a link works, for the mail."""
    if seconds % 60:
        return f"{seconds} seconds" if seconds != 1 else "1 second"
    minutes = seconds // 60
    return f"{minutes} minutes" if minutes != 1 else "1 minute"


def send_link(request: HttpRequest, address: EmailAddress) -> None:
    """Mail `address` a link that signs its user in (inside the request, as all the
    target's mail: a slow or refusing SMTP server shows in this request)."""
    link = request.build_absolute_uri(reverse("magic-login")) + get_query_string(address.user)
    body = (
        "Follow this link to sign in to the authsurge target. It works once, within "
        f"{lifetime(settings.SESAME_MAX_AGE)}:\n\n{link}\n\n"
        "If you did not ask for it, ignore this mail.\n"
    )
    subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + SUBJECT
    send_mail(subject, body, None, [address.email])


@require_http_methods(["GET", "POST"])
def request_link(request: HttpRequest) -> HttpResponse:
    """The form asking for an address; its POST mails a link when an account has it."""
    if request.method != "POST":
        return render(request, "magic_link/request.html", {"form": MagicLinkForm()})
    form = MagicLinkForm(request.POST)
    if not form.is_valid():  # not an address at all: the form again (200)
        return render(request, "magic_link/request.html", {"form": form})
    address = (
        EmailAddress.objects.filter(
            email__iexact=form.cleaned_data["email"], verified=True, user__is_active=True
        )
        .select_related("user")
        .first()
    )
    if address is not None:
        send_link(request, address)
    return redirect("magic-link-sent")  # the same answer for an unknown address


urlpatterns = [
    path("", request_link, name="magic-link"),
    path(
        "sent/",
        TemplateView.as_view(template_name="magic_link/sent.html"),
        name="magic-link-sent",
    ),
    path("login/", LoginView.as_view(), name="magic-login"),
]
