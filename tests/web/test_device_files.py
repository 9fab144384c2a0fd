"""A phone fetches the image a command names with its own device token; nobody else can."""
from __future__ import annotations

from devices.materials import save_upload
from devices.registry import add_device, set_enabled
from tests.devices.console.test_content_services import PNG
from tests.web.conftest import app, app_db, client  # noqa: F401 - the app these requests go to


def test_material_download_needs_a_valid_device_token(app, app_db, client):  # noqa: F811
    settings = app.extensions["ckb"].settings
    with app_db.write() as s:
        picture = save_upload(s, settings, "海报.png", PNG, None, app.extensions["ckb"].services.now())
        device, token, _qr = add_device(s, "手机1", "127.0.0.1:5000")
    url = f"/devices/materials/{picture.id}"
    with client.get(url, headers={"Authorization": f"Device {token}"}) as ok:  # closes the streamed file
        assert ok.status_code == 200 and ok.data == PNG and ok.headers["Content-Type"] == "image/png"
        assert ok.headers["X-Content-Type-Options"] == "nosniff"
    for headers in ({}, {"Authorization": "Device wrong"}, {"Authorization": f"Bearer {token}"}):
        assert client.get(url, headers=headers).status_code == 404
    assert client.get("/devices/materials/999", headers={"Authorization": f"Device {token}"}).status_code == 404
    with app_db.write() as s:
        set_enabled(s, device.id, False)
    assert client.get(url, headers={"Authorization": f"Device {token}"}).status_code == 404
