"""Hand-rolled form handling for the console: values in, a dict of Chinese errors out.

Errors are `{field_name: [message, …]}`; messages not tied to one field sit under "__all__".
The macros in templates/macros.html read this shape.
"""
from __future__ import annotations

from flask import flash, redirect, request

from crm.people.errors import PeopleError
from web.input_limits import int_values

FORM_ERROR = "__all__"


def errors_from(exc: PeopleError) -> dict[str, list[str]]:
    return {exc.field or FORM_ERROR: [exc.message]}


def form_value(name: str, default: str = "") -> str:
    return (request.form.get(name) or default).strip()


def form_flag(name: str) -> bool:
    return request.form.get(name) in ("1", "on", "true", "yes")


def password_or_initial(name: str = "password") -> tuple[str, bool]:
    """The typed password, or 参数配置's 初始密码 when the field is left empty: (password, whether
    the initial one was used — then the user must change it at first login)."""
    from web.extensions import services

    typed = request.form.get(name, "")
    if typed:
        return typed, False
    initial = services().settings.initial_password
    return initial, bool(initial)


def int_list(name: str) -> list[int]:
    """Checkbox values as ints, ignoring anything that is not a number."""
    return int_values(request.form.getlist(name))


def submit(action, message, target: str):
    """Runs a service call for a posted form: on success flashes `message` (a string, or a
    function of the call's result) and returns (redirect to `target`, {}); on PeopleError
    returns (None, errors) so the view re-renders the form with the messages."""
    try:
        result = action()
    except PeopleError as exc:
        return None, errors_from(exc)
    flash(message(result) if callable(message) else message, "success")
    return redirect(target), {}


def post_action(action, message, target: str, error_prefix: str = ""):
    """For one-button POSTs (enable, revoke, delete): run, flash the outcome, go to `target`."""
    try:
        result = action()
    except PeopleError as exc:
        flash(error_prefix + exc.message, "error")
    else:
        flash(message(result) if callable(message) else message, "success")
    return redirect(target)
