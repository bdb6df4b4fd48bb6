"""The OpenAPI schema at ``/api/schema/`` (drf-spectacular), completed by hand where the views
are not DRF's.

drf-spectacular describes the DRF views (the staff catalog API) by itself. The rest is plain
Django or a catch-all proxy view that matches its own allowlist, which no generator can read:

- the allowlisted checkout and account calls are written out from the route tables
  (``checkout.routes``, ``accounts.routes``), one operation per route, so the schema is the
  allowlist and cannot drift from it;
- the Centra-compatible catalog reads, the webhook receiver and the health endpoints are
  described here.

Where an answer is Centra's, passed through (proxy answers, catalog answers in Centra's shape),
it is described as a free-form JSON object with an optional ``token`` and an optional
``errors`` object: its fields are Centra's to define. Our own error answers always have an
``errors`` object.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.module_loading import import_string
from rest_framework import serializers

from storefront.jsonio import JsonDict

if TYPE_CHECKING:
    from storefront.routes import Param, Route


PROXY_PREFIX = "/api/checkout/"


class ErrorBody(serializers.Serializer[JsonDict]):
    """Every error answer of ours: ``{"errors": {"<field>": "<reason>"}}``."""

    # The field shadows the stubs' Serializer.errors; it only describes the schema.
    errors = serializers.DictField(child=serializers.CharField())  # type: ignore[assignment]


def _ref(name: str) -> JsonDict:
    return {"$ref": f"#/components/schemas/{name}"}


COMPONENTS: dict[str, JsonDict] = {
    "Errors": {
        "type": "object",
        "required": ["errors"],
        "properties": {"errors": {"type": "object", "additionalProperties": True}},
        "additionalProperties": True,
    },
    "CentraAnswer": {
        "type": "object",
        "description": "Centra's answer, passed through unchanged: its fields are Centra's. "
        "Error answers carry an errors object.",
        "properties": {
            "token": {"type": "string"},
            "errors": {"type": "object", "additionalProperties": True},
        },
        "additionalProperties": True,
    },
    # What the catalog reads accept, as Centra (the sandbox) reads it: numbers also as text of
    # up to 18 digits, lists also as one value, null as absent, unknown fields ignored; and the
    # BFF's own bounds (catalog/query.py: 200 characters of search, 1000 values per filter).
    "CatalogRequest": {
        "type": "object",
        "description": "Centra's POST products body. market, pricelist and language count for "
        "callers with the API key only (ignored otherwise). Of a search of more than 12 "
        "distinct words only the first 12 count.",
        "properties": {
            "market": {},
            "pricelist": {},
            "language": {},
            "limit": _ref("PositiveInteger"),
            "skipFirst": _ref("NonNegativeInteger"),
            "search": {
                "anyOf": [
                    {"type": "string", "maxLength": 200, "nullable": True},
                    # as text, at most 200 characters too
                    {"type": "integer", "minimum": -(10**199 - 1), "maximum": 10**200 - 1},
                ]
            },
            "categories": _ref("Values"),
            "collections": _ref("Values"),
            "brands": _ref("Values"),
            "products": _ref("Values"),
            "silkProduct": _ref("Values"),
            "swatch.desc": _ref("Values"),
            "items.name": _ref("Values"),
            "relatedProducts": _ref("Flag"),
            "onlyAvailable": _ref("Flag"),
            "uri": {
                "anyOf": [
                    {"type": "string", "nullable": True},
                    {
                        "type": "object",
                        "required": ["uri"],
                        "properties": {"uri": {"type": "string"}, "for": _ref("UriFor")},
                    },
                ]
            },
            "sortOrder": {
                "anyOf": [
                    {"type": "array", "items": _ref("SortEntry"), "nullable": True},
                    _ref("SortEntry"),
                ]
            },
        },
        "additionalProperties": True,
    },
    "UriRequest": {
        "allOf": [
            _ref("CatalogRequest"),
            {
                "type": "object",
                "required": ["uri"],
                "properties": {"uri": {"type": "string"}, "for": _ref("UriFor")},
            },
        ],
        "description": "Centra's POST uri body: the uri, what it may be, and a listing's fields.",
    },
    "CategoriesRequest": {
        "type": "object",
        "description": "Centra's POST categories body: market and language count for callers "
        "with the API key only; other fields are ignored.",
        "additionalProperties": True,
    },
    "PositiveInteger": {
        "anyOf": [
            {"type": "integer", "minimum": 1, "nullable": True},
            {"type": "string", "pattern": "^0*[1-9][0-9]{0,17}$", "maxLength": 18},
        ]
    },
    "NonNegativeInteger": {
        "anyOf": [
            {"type": "integer", "minimum": 0, "nullable": True},
            {"type": "string", "pattern": "^[0-9]{1,18}$"},
        ]
    },
    "Values": {
        "anyOf": [
            {
                "type": "array",
                "nullable": True,
                "maxItems": 1000,
                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            },
            {"type": "string"},
            {"type": "integer"},
        ]
    },
    "Flag": {
        "anyOf": [
            {"type": "boolean", "nullable": True},
            {"enum": [0, 1, "0", "1", "true", "false"]},
        ]
    },
    "UriFor": {
        "anyOf": [
            {"type": "string", "nullable": True},
            {"type": "array", "items": {"type": "string"}},
        ]
    },
    "SortEntry": {
        "type": "object",
        "required": ["field"],
        "properties": {
            "field": {
                "enum": [
                    "uri",
                    "categoryItemSort",
                    "collectionUri",
                    "priceAsNumber",
                    "createdAt",
                    "modifiedAt",
                ]
            },
            "order": {"type": "string", "pattern": "^([aA][sS][cC]|[dD][eE][sS][cC])$"},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {"type": "string"},
            "errors": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
}


def _json(schema: JsonDict, description: str) -> JsonDict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(description: str) -> JsonDict:
    return _json(_ref("Errors"), description)


X_CACHE = {
    "X-Cache": {
        "description": "HIT, MISS (read through to Centra) or STALE (Centra down)",
        "schema": {"type": "string", "enum": ["HIT", "MISS", "STALE"]},
    }
}


def _catalog_operation(op_id: str, summary: str, body: str | None) -> JsonDict:
    responses: JsonDict = {
        "200": {
            **_json(_ref("CentraAnswer"), "Centra's answer, from the cache"),
            "headers": X_CACHE,
        },
        "400": _errors("bad input"),
        "401": _errors("a wrong API key"),
        "403": _errors("a trusted-only parameter without the API key"),
        "404": _errors("not found"),
        "405": _errors("another method"),
        "413": _errors("body too large"),
        "503": _errors("not cached and Centra unavailable"),
    }
    op: JsonDict = {
        "operationId": op_id,
        "summary": summary,
        "tags": ["catalog"],
        "responses": responses,
    }
    if body:
        op["requestBody"] = {
            "required": body == "UriRequest",
            "content": {"application/json": {"schema": _ref(body)}},
        }
    return op


def catalog_paths() -> dict[str, JsonDict]:
    product_param = {
        "name": "product",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    get_product = _catalog_operation("catalog_product", "One product", body=None)
    get_product["parameters"] = [product_param]
    return {
        PROXY_PREFIX + "products": {
            "post": _catalog_operation(
                "catalog_products", "Products: filters, facets", "CatalogRequest"
            )
        },
        PROXY_PREFIX + "products/{product}": {"get": get_product},
        PROXY_PREFIX + "uri": {
            "post": _catalog_operation("catalog_uri", "Resolve a URI", "UriRequest")
        },
        PROXY_PREFIX + "categories": {
            "get": _catalog_operation("catalog_categories", "Categories", None),
            "post": _catalog_operation(
                "catalog_categories_post", "Categories", "CategoriesRequest"
            ),
        },
        **{
            PROXY_PREFIX + name: {
                "get": _catalog_operation(f"catalog_{name}", f"The shop's {name}", None)
            }
            for name in ("countries", "languages", "markets", "pricelists")
        },
    }


def _string_rule(rule: Param) -> JsonDict:
    """A value the allowlist checks (a path parameter, a required body key), with its rule."""
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": rule.max_length,
        "pattern": rule.ecma_pattern,
    }


def _body_schema(route: Route) -> JsonDict:
    """A proxied call's JSON body: what Centra requires of it (``Route.centra_body``, Centra
    judges it), and the keys the allowlist itself requires and checks (``Route.body``, e.g.
    ``voucher``), each with its rule. Anything else is free: Centra's to read."""
    schema: JsonDict = {"type": "object", "additionalProperties": True, **route.centra_body}
    if route.body:
        schema["required"] = sorted({*schema.get("required", ()), *route.body})
        schema["properties"] = {
            **schema.get("properties", {}),
            **{key: _string_rule(rule) for key, rule in route.body.items()},
        }
    return schema


def proxy_paths() -> dict[str, JsonDict]:
    """One operation per allowlisted route of the route tables ``PROXY_ROUTE_TABLES`` names
    (by module path: the kernel imports no app)."""
    paths: dict[str, JsonDict] = {}
    for tag, dotted in settings.PROXY_ROUTE_TABLES.items():
        routes: Sequence[Route] = import_string(dotted)
        for route in routes:
            op_id = "proxy_" + route.method.lower() + "_" + route.template.replace("/", "_")
            op_id = op_id.replace("{", "").replace("}", "").replace("-", "_")
            summary = f"{route.method} {route.template}, passed on to Centra"
            if route.trusted_only:
                summary += " (server-side callers with the API key only)"
            op: JsonDict = {
                "operationId": op_id,
                "summary": summary,
                "tags": [tag],
                "parameters": [
                    {
                        "name": name,
                        "in": "path",
                        "required": True,
                        "description": rule.rule,
                        "schema": _string_rule(rule),
                    }
                    for name, rule in route.params.items()
                ],
                "responses": {
                    "default": _json(
                        _ref("CentraAnswer"),
                        "Centra's status and answer, unchanged (4xx answers carry errors)",
                    ),
                    "400": _errors("a path parameter, the body or the token refused"),
                    "401": _errors("a wrong API key"),
                    "403": _errors(
                        "without the API key"
                        if route.trusted_only
                        else "an unsafe call from another origin"
                    ),
                    "404": _errors("not allowlisted"),
                    "405": _errors("another method"),
                    "409": _errors("a payment result of the session is in flight"),
                    "411": _errors("a chunked body where the server cannot end it"),
                    "413": _errors("body too large"),
                    "429": _errors("rate limited"),
                    "503": _errors(
                        "Centra, or the session store, unavailable: the call did not happen"
                    ),
                    "504": _errors(
                        "Centra did not answer in time: the call may have happened; "
                        "read the selection before repeating it"
                    ),
                },
            }
            if route.mutates:
                op["requestBody"] = {
                    "required": bool(
                        route.body
                        or route.centra_body.get("required")
                        or route.centra_body.get("anyOf")
                    ),
                    "content": {"application/json": {"schema": _body_schema(route)}},
                }
            paths.setdefault(PROXY_PREFIX + route.template, {})[route.method.lower()] = op
    return paths


def other_paths() -> dict[str, JsonDict]:
    health = {
        "200": _json(_ref("Health"), "up"),
        "503": _json(_ref("Health"), "not ready, with the reasons"),
    }
    return {
        "/healthz": {"get": {"operationId": "healthz", "tags": ["health"], "responses": health}},
        "/readyz": {"get": {"operationId": "readyz", "tags": ["health"], "responses": health}},
        "/webhooks/centra": {
            "post": {
                "operationId": "centra_webhook",
                "summary": "Centra's webhook: form body payload=<JSON>, signed",
                "tags": ["webhooks"],
                "parameters": [
                    {
                        "name": "X-Centra-Signature",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "t=<unix>,v1=<hex HMAC-SHA256 of '<t>.<raw body>'>",
                    }
                ],
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "properties": {"payload": {"type": "string"}},
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(
                        {"type": "object", "properties": {"status": {"type": "string"}}},
                        "a duplicate, already handled",
                    ),
                    "202": _json(
                        {
                            "type": "object",
                            "properties": {
                                "status": {"type": "string"},
                                "queued": {},
                            },
                        },
                        "accepted and queued",
                    ),
                    "400": _errors("malformed"),
                    "401": _errors("signature missing or wrong"),
                    "403": _errors("signature refused"),
                    "405": _errors("another method"),
                    "413": _errors("body too large"),
                    "415": _errors("not a form body"),
                    "503": _errors("cannot queue now"),
                },
            }
        },
    }


def preprocess(endpoints: list[tuple[str, str, str, Any]]) -> list[tuple[str, str, str, Any]]:
    """Leave out the catch-all proxy views: :func:`postprocess` writes their operations."""
    return [e for e in endpoints if not e[0].startswith(PROXY_PREFIX)]


STAFF_PREFIX = "/api/admin/"


def _staff_limits(paths: JsonDict) -> None:
    """The staff API's operations (drf-spectacular's) also answer 429: too many failed staff
    logins from the address or for the username (``storefront.stafflogin``)."""
    limited = {
        **_errors("too many failed staff logins: wait for Retry-After"),
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    }
    for path, operations in paths.items():
        if path.startswith(STAFF_PREFIX):
            for operation in operations.values():
                if isinstance(operation, dict) and "responses" in operation:
                    operation["responses"].setdefault("429", limited)


def postprocess(result: JsonDict, generator: Any, request: Any, public: bool) -> JsonDict:
    paths = result.setdefault("paths", {})
    _staff_limits(paths)
    for extra in (catalog_paths(), proxy_paths(), other_paths()):
        for path, operations in extra.items():
            paths.setdefault(path, {}).update(operations)
    result.setdefault("components", {}).setdefault("schemas", {}).update(COMPONENTS)
    result["paths"] = dict(sorted(paths.items()))
    return result
