"""设备管理: the device list (online/offline, last heartbeat, battery and network, accounts; offline
ones highlighted), 添加设备 (the token shown once, with its QR code), device detail (status
history, logs, accounts, recent commands) and the 重启/解绑 buttons."""
from __future__ import annotations

import base64
import io

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from devices import device_admin, tokens
from devices.accounts import AccountError, AccountNotFound
from web.auth.guards import permission_required
from web.console.forms_common import error_map
from web.console.devices_common import flash_refusal, read, uid, write
from web.extensions import services

bp = Blueprint("devices", __name__)
STATUS_OPTIONS = [("", "全部状态"), ("online", "在线"), ("offline", "离线"), ("unbound", "已解绑")]


def qr_svg_data_uri(payload: str):
    """The QR code as an SVG data: URI (allowed by the CSP's img-src), or None without `qrcode`."""
    try:
        import qrcode
        import qrcode.image.svg
    except ImportError:  # optional: the payload text is shown either way
        return None
    image = qrcode.make(payload, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@bp.get("/devices")
@permission_required("devices.view")
def index():
    status, keyword = request.args.get("status", ""), request.args.get("q", "").strip()
    rows, stats = read(lambda s: (device_admin.list_devices(s, status=status, keyword=keyword),
                                  device_admin.summary(s)))
    return render_template("devices/index.html", rows=rows, stats=stats, status=status, keyword=keyword,
                           status_options=STATUS_OPTIONS)


@bp.route("/devices/new", methods=["GET", "POST"])
@permission_required("devices.manage")
def new():
    values, errors = {"name": "", "remark": ""}, {}
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in values}
        try:
            device, token = write(lambda s: device_admin.create_device(s, values["name"], values["remark"],
                                                                       services().now()))
        except AccountError as exc:
            errors = error_map(exc)
            return render_template("devices/new.html", values=values, errors=errors), 400
        # Shown once on this response and never stored in clear: reloading does not show it again.
        payload = tokens.qr_payload(request.host, token)
        return render_template("devices/token.html", device=device, token=token, payload=payload,
                               qr=qr_svg_data_uri(payload))
    return render_template("devices/new.html", values=values, errors=errors)


@bp.get("/devices/<int:device_id>")
@permission_required("devices.view")
def show(device_id: int):
    def load(s):
        device = device_admin.get_device(s, device_id)
        return (device, device_admin.device_accounts(s, device_id),
                device_admin.device_logs(s, device_id, ("online", "offline")),
                device_admin.device_logs(s, device_id), device_admin.recent_commands(s, device_id))

    try:
        device, accounts, history, logs, commands = read(load)
    except AccountNotFound:
        abort(404)
    return render_template("devices/show.html", device=device, accounts=accounts, history=history, logs=logs,
                           commands=commands, tab=request.args.get("tab", "accounts"),
                           log_labels=device_admin.LOG_KIND_LABELS, command_labels=device_admin.COMMAND_STATUS_LABELS)


def _command(device_id: int, kind: str):
    svc = services()
    try:
        command = write(lambda s: device_admin.send_device_command(s, device_id, kind, uid(), svc.now(),
                                                                   svc.settings))
    except AccountNotFound:
        abort(404)
    except AccountError as exc:
        flash_refusal(exc, "操作失败：")
        return redirect(url_for("devices.show", device_id=device_id))
    label = {"restart": "重启", "unbind": "解绑"}[kind]
    if command is None:
        flash(f"设备已{label}（设备上没有微信号，未下发指令）", "success")
    elif command.status in ("refused",):
        flash(f"{label}指令被拒绝：{command.reason}", "error")
    else:
        flash(f"已下发{label}指令 #{command.id}" + (f"，{command.reason}" if command.reason else ""), "success")
    return redirect(url_for("devices.show", device_id=device_id, tab="commands"))


@bp.post("/devices/<int:device_id>/restart")
@permission_required("devices.manage")
def restart(device_id: int):
    return _command(device_id, "restart")


@bp.post("/devices/<int:device_id>/unbind")
@permission_required("devices.manage")
def unbind(device_id: int):
    return _command(device_id, "unbind")
