"""One declaration per API route feeds both Flask and the OpenAPI 3 document, so they can't drift."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from flask import Blueprint


@dataclass
class RouteDoc:
    path: str
    method: str
    summary: str
    tag: str
    body: Optional[dict] = None  # JSON schema of the request body
    query: list = field(default_factory=list)  # [(name, type, description)]
    permission: str = ""
    responses: dict = field(default_factory=dict)
    auth: str = "bearer"  # bearer | hmac | none
    # A name that reads as what the operation does (listCustomers); issue 14 makes it required.
    operation_id: str = ""
    # Examples: {"request": {...}} for the body, {"200": {...}} etc. for responses by status code.
    examples: dict = field(default_factory=dict)


ROUTES: list[RouteDoc] = []


def api_route(bp: Blueprint, rule: str, method: str, summary: str, tag: str, **doc):
    """Registers a view on `bp` and documents it; `rule` is relative to the blueprint prefix."""

    def decorate(view):
        endpoint = f"{view.__name__}_{method.lower()}"
        bp.add_url_rule(rule, endpoint=endpoint, view_func=view, methods=[method])
        path = (bp.url_prefix or "") + rule
        ROUTES.append(RouteDoc(path=path, method=method.lower(), summary=summary, tag=tag, **doc))
        return view

    return decorate


def obj(properties: dict, required: tuple = ()) -> dict:
    schema = {"type": "object", "properties": properties}
    if required:  # OpenAPI 3.0 wants a non-empty list or no "required" at all
        schema["required"] = list(required)
    return schema


STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
NUM = {"type": "number"}
ANY_OBJ = {"type": "object", "additionalProperties": True}
INT_LIST = {"type": "array", "items": INT}
OBJ_LIST = {"type": "array", "items": ANY_OBJ}  # OpenAPI 3.0: an array names its items
IDS = obj({"ids": INT_LIST}, ("ids",))
# Response parts: a value the serializers may leave empty is nullable (the document promises no more).
NSTR = {"type": "string", "nullable": True}
NINT = {"type": "integer", "nullable": True}
DELETED = obj({"deleted": INT}, ("deleted",))


def items_of(item: dict, **extra) -> dict:
    """A list answer: {"items": [item…], …extra (total, page…)}."""
    return obj({"items": {"type": "array", "items": item}, **extra}, ("items",))
