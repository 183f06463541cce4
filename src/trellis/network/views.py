"""``/network/``: the network report for analysts and directors; the export for admins."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from trellis.accounts.decorators import staff_view
from trellis.accounts.services import has_any_role
from trellis.analytics.render import equity_svg, figures, funnel_svg, km_svg, pct
from trellis.core.errors import InvalidInput
from trellis.network import services
from trellis.web.http import TrellisRequest


@staff_view(services.NETWORK_ROLES)
def index(request: TrellisRequest) -> HttpResponse:
    program = request.program
    assert program is not None
    view = services.network_view(request.user, program, request=request)
    report = view["report"]
    context = {
        "program": program,
        "view": view,
        "report": report,
        "can_export": has_any_role(request.user, program, services.EXPORT_ROLES),
    }
    mine = view["mine"]
    if mine is not None:
        network = report["network"] if report else {}
        context["own_rates"] = [
            (label, pct(mine[k]), pct(network.get(k)))
            for label, k in (
                (_("Evaluable share"), "evaluable_share"),
                (_("Response rate"), "response_rate"),
                (_("Remission rate"), "remission_rate"),
                (_("Durable remission at 90 days"), "durable_remission_90d_rate"),
            )
        ]
    if report is not None:
        # Server-rendered SVG built from numbers only (every text is escaped in render.py).
        context["figures"] = figures(report)
        context["km_svg"] = mark_safe(km_svg(report))  # noqa: S308
        context["funnel_svg"] = mark_safe(funnel_svg(report, highlight=view["key"]))  # noqa: S308
        context["equity_svgs"] = [
            (dim, mark_safe(equity_svg(report, dim, f"eq-{dim}")))  # noqa: S308
            for dim in view["equity"]
        ]
    return render(request, "network/index.html", context)


@require_POST
@staff_view(services.EXPORT_ROLES)
def export(request: TrellisRequest) -> HttpResponse:
    program = request.program
    assert program is not None
    data = services.export_zip(request.user, program, request=request)
    label = "synthetic-" if program.is_synthetic else ""
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="trellis-network-{label}{program.slug}.zip"'
    )
    return response


@staff_view(services.NETWORK_ROLES)
def bundles(request: TrellisRequest) -> HttpResponse:
    """Other programs' bundles: upload (admins) and this program's place among them."""
    program = request.program
    assert program is not None
    error = None
    can_upload = has_any_role(request.user, program, services.EXPORT_ROLES)
    if request.method == "POST":
        if not can_upload:
            raise Http404("No such page")
        upload = request.FILES.get("bundle")
        try:
            if upload is None:
                raise InvalidInput("bundle", _("choose a bundle file"))
            services.upload_bundle(request.user, program, upload.read(), request=request)
        except InvalidInput as exc:
            error = exc.detail
        else:
            messages.success(request, _("The bundle is added."))
            return redirect("network:bundles")
    view = services.bundles_view(request.user, program, request=request)
    report = view["report"]
    context = {
        "program": program,
        "view": view,
        "report": report,
        "error": error,
        "can_upload": can_upload,
    }
    if report is not None:
        context["funnel_svg"] = mark_safe(  # noqa: S308
            funnel_svg(report, "bundles-funnel", highlight=view["key"])
        )
    return render(request, "network/bundles.html", context, status=400 if error else 200)


@staff_view(services.BRIEF_ROLES)
def brief(request: TrellisRequest) -> HttpResponse:
    """The advocacy brief as HTML (?lang=en|es), for analysts and directors; audited."""
    from trellis.analytics.brief import T, html_body

    program = request.program
    assert program is not None
    lang = request.GET.get("lang", "en")
    if lang not in ("en", "es"):
        raise Http404("No such page")
    try:
        data = services.brief_view(request.user, program, lang, request=request)
    except InvalidInput as exc:
        context = {"program": program, "lang": lang, "error": exc.detail, "brief": None}
        return render(request, "network/brief.html", context)
    context = {
        "program": program,
        "brief": data,
        "lang": lang,
        "title": T[lang]["title"],
        # Built from numbers and fixed sentences only (every text is escaped in brief.py).
        "body": mark_safe(html_body(data, lang)),  # noqa: S308
    }
    return render(request, "network/brief.html", context)
