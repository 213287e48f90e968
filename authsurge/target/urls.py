"""URLs: Django's login/logout views, DOT's OAuth2/OIDC endpoints (with the device
authorization grant) under /o/, our small views, with --signup django-allauth's account
pages under /accounts/ and sign-in by e-mailed link (authsurge.target.magic_link) under
/accounts/magic/, with --app-login allauth's headless API for apps under
/_allauth/app/v1/."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from oauth2_provider import urls as dot_urls

from authsurge.target import device, views
from authsurge.target.oidc import DiscoveryView

# Only the protocol endpoints of DOT, with its device authorization grant (RFC 8628):
# device-authorization/, device/ (the user code form), device-confirm/<client>/<code>,
# device-grant-status/<client>/<code>. Its application/token management pages and
# dynamic registration are left out (nothing in a surge test uses them, and the
# management pages would let any test user register clients). Two views are ours,
# under DOT's paths and names: they bridge DOT 3.4 and oauthlib 4 (authsurge.target.device).
_replaced = {
    "token": path("token/", device.TokenView.as_view(), name="token"),
    "device-authorization": path(
        "device-authorization/",
        device.DeviceAuthorizationView.as_view(),
        name="device-authorization",
    ),
}
_dot_patterns = [_replaced.get(p.name, p) for p in dot_urls.base_urlpatterns]
_discovery = "oidc-connect-discovery-info"
_oidc_patterns = [
    # DOT's own discovery view, extended (authsurge.target.oidc.DiscoveryView)
    re_path(r"^\.well-known/openid-configuration/?$", DiscoveryView.as_view(), name=_discovery),
    *[p for p in dot_urls.oidc_urlpatterns if p.name != _discovery],
]
oauth2_patterns = (_dot_patterns + _oidc_patterns, dot_urls.app_name)

urlpatterns = [
    path("", views.index, name="index"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/profile/", views.profile, name="profile"),
    path("api/me", views.api_me, name="api-me"),
    path("o/", include(oauth2_patterns, namespace="oauth2_provider")),
]
if settings.AUTHSURGE_SIGNUP:
    # After the explicit entries: accounts/login/ and accounts/logout/ stay Django's views
    # (allauth's views of the same paths are never reached); allauth adds signup/,
    # confirm-email/..., login/code/, login/code/confirm/, password/reset/... (its URL
    # names all start with account_, so none replaces login, logout or profile).
    urlpatterns.append(path("accounts/", include("allauth.account.urls")))
    # sign-in by e-mailed link (django-sesame; allauth has no magic/ paths):
    # accounts/magic/, accounts/magic/sent/, accounts/magic/login/
    urlpatterns.append(path("accounts/magic/", include("authsurge.target.magic_link")))
if settings.AUTHSURGE_APP_LOGIN:
    # auth/login, auth/2fa/authenticate, auth/session, tokens/refresh, ... (app client)
    urlpatterns.append(path("_allauth/", include("allauth.headless.urls")))
    if settings.AUTHSURGE_SIGNUP:
        # not headless-only then: allauth's login stages name its 2FA page
        # (mfa_authenticate), which must exist; the headless API never redirects to it
        urlpatterns.append(path("accounts/2fa/", include("allauth.mfa.urls")))
