"""``/api/docs``: the OpenAPI document as a web page, rendered on the server from
:func:`lims.api.openapi.document` (no script, nothing fetched from outside the lab: it works
on a network with no Internet, under the site's Content-Security-Policy)."""

from __future__ import annotations

from typing import Any

from flask import render_template, url_for

from lims.auth.permissions import PUBLIC, access

from . import pages_bp
from .openapi import document

METHODS = ("get", "post", "put", "patch", "delete")


def type_text(schema: dict[str, Any] | None) -> str:
    """A short reading of a JSON schema: ``string``, ``integer ≥ 1``, ``one of: a, b``,
    ``array of SampleSummary``, ``SampleList``…"""
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "enum" in schema:
        return "one of: " + ", ".join(str(v) for v in schema["enum"])
    for combo in ("oneOf", "anyOf", "allOf"):
        if combo in schema:
            joiner = " + " if combo == "allOf" else " | "
            return joiner.join(type_text(s) for s in schema[combo])
    kind = schema.get("type", "")
    text = " | ".join(kind) if isinstance(kind, list) else str(kind)
    if kind == "array":
        text = "array of " + (type_text(schema.get("items")) or "anything")
    if schema.get("format"):
        text += f" ({schema['format']})"
    bounds = [f"≥ {schema['minimum']}" if "minimum" in schema else "",
              f"≤ {schema['maximum']}" if "maximum" in schema else "",
              f"≤ {schema['maxLength']} chars" if "maxLength" in schema else ""]  # fmt: skip
    extra = ", ".join(b for b in bounds if b)
    return f"{text} {extra}".strip() or "any"


def operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operation of the document, in its order, with what the page shows."""
    out = []
    for path, item in doc["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = (op.get("requestBody") or {}).get("content", {}).get("application/json", {})
            out.append(
                {
                    "id": f"{method}-{path}".replace("/", "-").strip("-"),
                    "method": method.upper(),
                    "path": path,
                    "op": op,
                    "secured": op.get("security", doc.get("security")) != [],
                    "body": type_text(body.get("schema")) if body else "",
                    "responses": [
                        (
                            status,
                            r.get("description", ""),
                            ", ".join(
                                f"{mime}: {type_text(c.get('schema'))}".rstrip(": ")
                                for mime, c in r.get("content", {}).items()
                            ),
                            sorted(r.get("headers", {})),
                        )
                        for status, r in op["responses"].items()
                    ],  # fmt: skip
                }
            )
    return out


@pages_bp.route("/api/docs")
@access(PUBLIC)
def docs() -> Any:
    doc = document(url_for("api.index", _external=True).rstrip("/"))
    return render_template(
        "api/docs.html",
        doc=doc,
        operations=operations(doc),
        schemas=doc["components"]["schemas"],
        type_text=type_text,
    )
