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
    auth: str = "bearer"  # bearer | hmac


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
    return {"type": "object", "properties": properties, "required": list(required)}


STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
NUM = {"type": "number"}
ANY_OBJ = {"type": "object", "additionalProperties": True}
IDS = obj({"ids": {"type": "array", "items": INT}}, ("ids",))
