"""Flow settings of the OAuth device authorization grant (RFC 8628, device_login): how a
CLI asks for a code, polls for its token, and how the person approves in a browser.

Defaults fit django-oauth-toolkit (the embedded target): its device pages ask for the
user code (`user_code`) after the sign-in and confirm with `action=accept`. A third-party
provider changes them by configuration only.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from authsurge.scenario.base import Strict
from authsurge.scenario.forms import FormSpec


class HumanDelay(Strict):
    """How long a person takes to switch to the browser after the CLI shows the code
    (uniform between the two); the CLI polls all the while."""

    min_s: Annotated[float, Field(ge=0, le=3600)] = 5.0
    max_s: Annotated[float, Field(ge=0, le=3600)] = 60.0

    @model_validator(mode="after")
    def _ordered(self) -> HumanDelay:
        if self.max_s < self.min_s:
            raise ValueError("human_delay: max_s must be at least min_s")
        return self


class DeviceSettings(Strict):
    # the CLI's OAuth client: a public client of this id, else flows.oidc's client (with its
    # client authentication); the endpoints: None takes discovery's (flows.oidc)
    client_id: str | None = None
    authorization_endpoint: str | None = None  # device_authorization_endpoint
    token_url: str | None = None
    scope: str | None = "openid"
    human_delay: HumanDelay = Field(default_factory=HumanDelay)
    # open verification_uri_complete (the code in the link, as from a QR code) rather than
    # verification_uri, where the person types the code
    use_complete: bool = False
    user_code_field: str = "user_code"
    login_form: FormSpec = Field(default_factory=FormSpec)  # the provider's sign-in page
    # sent with any other form on the way (the approval): DOT's accept; {action: deny}
    # makes the person deny, as a test of the poll's access_denied
    confirm_fields: dict[str, str] = Field(default_factory=lambda: {"action": "accept"})
    # the named submit button those forms are sent with (None: the first named one, as a
    # person would press; "": none of them, e.g. oidc-provider's nameless Continue
    # beside its named Abort)
    confirm_button: str | None = None
    # the page that says it is done (text on it); None: the first page without a form
    done_text: str | None = None
    max_pages: Annotated[int, Field(ge=1, le=30)] = 10
    # the interval when the device authorization answer gives none (RFC 8628: 5 s)
    default_interval_s: Annotated[float, Field(gt=0, le=600)] = 5.0
    # poll every this many seconds whatever the server says (a CLI that ignores its
    # interval; each slow_down still adds 5 s); None: the server's interval, as RFC 8628 asks
    interval_s: Annotated[float, Field(gt=0, le=600)] | None = None
