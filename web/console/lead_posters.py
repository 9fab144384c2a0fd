"""海报与渠道码: one poster per channel for a poster (or form) scene — title, subtitle, colour and
the page a visitor continues to after leaving their details — with its QR code. The list shows,
per channel and per poster, how many people scanned and how many left their details (转化率),
so a marketer sees which channel's posters work. Posters and QR codes are previewed and
downloaded as PNG for printing."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from crm.leads import channels, plans, posters, scenes
from crm.leads.errors import LeadNotFound, LeadsError
from web.auth.guards import permission_required
from web.console.forms_common import error_map, read, write
from web.extensions import services

bp = Blueprint("lead_posters", __name__)
FIELDS = ("scene_id", "channel_id", "plan_id", "title", "subtitle", "color", "target_url")


def public_base_url() -> str:
    """Where phones reach this server: a configured public address (behind a proxy or CDN the
    console's own host may be internal), else the host the console was opened on."""
    configured = services().settings.public_base_url.strip()
    return (configured or request.host_url).rstrip("/")


def png(data: bytes, filename: str) -> Response:
    """A PNG answer; ?download=1 saves it under `filename` instead of showing it."""
    response = Response(data, mimetype="image/png")
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def form_choices(session, scene_types: tuple[str, ...]) -> dict:
    """Scenes of these types, active channels and their plans, as (value, label) pairs."""
    found = [s for t in scene_types for s in scenes.list_scenes(session, t)]
    names = {s.id: s.name for s in found}
    return {"scenes": [(s.id, f"{s.name}{'' if s.is_enabled else '（已停用）'}") for s in found],
            "channels": [(c.id, c.name) for c in channels.list_channels(session, active_only=True)],
            "plans": [(p.id, f"{p.name}（{names[p.scene_id]}）") for t in scene_types
                      for p in plans.list_plans(session, t) if p.scene_id in names]}


def names_of(session) -> dict:
    """Names of every scene, channel and plan (stopped ones too: old codes still point at them)."""
    return {"scenes": {s.id: s.name for s in scenes.list_scenes(session)},
            "channels": {c.id: c.name for c in channels.list_channels(session)},
            "plans": {p.id: p.name for p in plans.list_plans(session)}}


@bp.get("/leads/posters")
@permission_required("scenes.manage")
def index():
    scene_id = request.args.get("scene_id", type=int)

    def load(s):
        return (posters.list_codes(s, scene_id=scene_id), posters.channel_stats(s, scene_id=scene_id), names_of(s),
                form_choices(s, posters.POSTER_SCENE_TYPES)["scenes"])

    rows, stats, names, scene_options = read(load)
    return render_template("lead_posters/index.html", rows=rows, stats=stats, names=names, scene_id=scene_id,
                           scene_options=scene_options)


def _render_form(values: dict, errors: dict, status: int = 200):
    choices = read(lambda s: form_choices(s, posters.POSTER_SCENE_TYPES))
    return render_template("lead_posters/form.html", values=values, errors=errors, choices=choices), status


@bp.route("/leads/posters/new", methods=["GET", "POST"])
@permission_required("scenes.manage")
def new():
    if request.method == "GET":
        values = {k: request.args.get(k, "") for k in FIELDS}
        values["color"] = values["color"] or "#1f6feb"
        return _render_form(values, {})
    return create_from_form(posters.create_code, FIELDS, _render_form, "海报", "lead_posters.show")


def create_from_form(create, fields: tuple, render_form, label: str, show_endpoint: str):
    """POST of a 生成 form: the code and its detail page, or the form again with the messages."""
    values = {k: request.form.get(k, "") for k in fields}
    try:
        code = write(lambda s: create(s, values))
    except LeadsError as exc:
        return render_form(values, error_map(exc), 400)
    flash(f"已生成{label}「{code.title}」", "success")
    return redirect(url_for(show_endpoint, code_id=code.id))


def _code(code_id: int):
    try:
        return read(lambda s: (posters.get_code(s, code_id), names_of(s)))
    except LeadNotFound:
        abort(404)


@bp.get("/leads/posters/<int:code_id>")
@permission_required("scenes.manage")
def show(code_id: int):
    code, names = _code(code_id)
    return render_template("lead_posters/show.html", code=code, names=names,
                           link=posters.poster_url(code, public_base_url()))


@bp.get("/leads/posters/<int:code_id>/poster.png")
@permission_required("scenes.manage")
def poster_png(code_id: int):
    code, names = _code(code_id)
    data = posters.poster_png(code, public_base_url(), channel_name=names["channels"].get(code.channel_id, ""))
    return png(data, f"poster-{code.id}.png")


@bp.get("/leads/posters/<int:code_id>/qr.png")
@permission_required("scenes.manage")
def qr_png(code_id: int):
    code, _names_ = _code(code_id)
    return png(posters.qr_png(posters.poster_url(code, public_base_url())), f"qr-{code.id}.png")
