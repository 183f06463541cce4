"""Sign-in (password, then TOTP where required), sign-out and the program switcher."""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from trellis.accounts.decorators import public_view
from trellis.accounts.forms import TokenForm
from trellis.accounts.middleware import SESSION_KEY
from trellis.accounts.services import needs_second_factor, programs_of


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return "/"


@public_view
@sensitive_post_parameters("password")
@never_cache
def login(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = AuthenticationForm(request, data=request.POST)
        if form.is_valid():
            user = form.get_user()
            auth_login(request, user)
            if needs_second_factor(user):
                request.session["trellis_next"] = _next_url(request)
                return redirect("accounts:otp")
            return HttpResponseRedirect(_next_url(request))
    else:
        form = AuthenticationForm(request)
    return render(request, "accounts/login.html", {"form": form, "next": _next_url(request)})


def _confirmed_device(user: object) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


@public_view
@never_cache
def otp(request: HttpRequest) -> HttpResponse:
    """Second step: a six-digit code from the staff member's authenticator app."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    device = _confirmed_device(request.user)
    if device is None:
        return redirect("accounts:otp_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _info = device.verify_is_allowed()
        if allowed and device.verify_token(form.cleaned_data["token"]):
            otp_login(request, device)
            return HttpResponseRedirect(request.session.pop("trellis_next", "/"))
        form.add_error("token", _("That code did not match. Wait for a new code and try again."))
    return render(request, "accounts/otp.html", {"form": form})


@public_view
@never_cache
def otp_setup(request: HttpRequest) -> HttpResponse:
    """First sign-in of a clinical user: enrol an authenticator app (TOTP, RFC 6238)."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    if _confirmed_device(request.user) is not None:
        return redirect("accounts:otp")
    device, _created = TOTPDevice.objects.get_or_create(
        user=request.user, confirmed=False, defaults={"name": "Authenticator app"}
    )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            messages.success(request, _("Two-step sign-in is set up."))
            return HttpResponseRedirect(request.session.pop("trellis_next", "/"))
        form.add_error("token", _("That code did not match. Check the time on your phone."))
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    img = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    buf = io.BytesIO()
    img.save(buf)
    qr_data_uri = "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return render(
        request,
        "accounts/otp_setup.html",
        {"form": form, "secret": secret, "qr_data_uri": qr_data_uri},
    )


@public_view
@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    return redirect("accounts:login")


@public_view
@require_POST
def switch_program(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    wanted = request.POST.get("program", "")
    program = programs_of(request.user).filter(pk=wanted).first() if wanted.isdigit() else None
    if program is None:
        messages.error(request, _("You have no role in that program."))
    else:
        request.session[SESSION_KEY] = program.pk
    return redirect("web:home")
