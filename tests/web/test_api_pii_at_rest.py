"""A lead posted through the signed API is stored with its phone and e-mail sealed (columns and
payload) and still answered in clear to a reader allowed to see personal data (issue 9 item 9)."""
from __future__ import annotations

from sqlalchemy import text

from tests.web.api_helpers import EMAIL, MOBILE, api  # noqa: F401
from tests.web.test_api_leads import app_keys, lead, scene, signer  # noqa: F401


def test_api_lead_is_sealed_at_rest_and_read_in_clear(signer, api, app_db):  # noqa: F811
    resp = signer.post(lead("pii-1", message=f"请回电 {MOBILE}"))
    assert resp.status_code == 202, resp.text
    with app_db.read() as s:
        stored = repr([tuple(r) for r in s.execute(text("SELECT mobile, email, lead_data, raw_data FROM lead"))])
    assert MOBILE not in stored and EMAIL not in stored and "138-0013-8000" not in stored and "pii1:" in stored
    body = api.ok("GET", f"/api/v1/leads/{resp.json()['lead_id']}")
    assert MOBILE in str(body) and EMAIL in str(body) and "pii1:" not in str(body)
