"""Flask's session cookie without the flash messages in it.

`flash()` and `get_flashed_messages()` keep working unchanged: when a response is saved, the
pending messages move to crm.people.flash_stash and the cookie keeps only a random reference;
the next request puts them back into the session before any view runs. The cookie is signed,
not encrypted, and a message may name a customer or a member of staff.
"""
from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from crm.people import flash_stash

FLASHES = "_flashes"  # Flask's own key
REF = "_flash_ref"


class ServerFlashSessionInterface(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request):
        session = super().open_session(app, request)
        ref = dict.get(session, REF) if session is not None else None
        if ref and not request.path.startswith("/static/"):
            messages = flash_stash.load(_db(app), ref)
            # dict-level: putting them back is not a change that must re-send the cookie.
            dict.__setitem__(session, FLASHES, messages)
            session.ckb_loaded_flashes = (ref, list(messages))
        return session

    def save_session(self, app: Flask, session, response) -> None:
        pending = dict.pop(session, FLASHES, None) or []
        # The reference that this request loaded (None when it loaded none, e.g. a static file).
        ref, loaded = getattr(session, "ckb_loaded_flashes", (None, []))
        changed = [tuple(m) for m in pending] != [tuple(m) for m in loaded]
        if changed and ref is not None:
            flash_stash.drop(_db(app), ref)
            session.pop(REF, None)
        if changed and pending:
            session[REF] = flash_stash.stash(_db(app), pending, _now(app))
        super().save_session(app, session, response)


def _db(app: Flask):
    return app.extensions["ckb"].services.db


def _now(app: Flask):
    return app.extensions["ckb"].services.clock.now()


def init_flash_store(app: Flask) -> None:
    app.session_interface = ServerFlashSessionInterface()
