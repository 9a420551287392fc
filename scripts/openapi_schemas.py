#!/usr/bin/env python3
"""Describes the API's answers that openapi.json has no schema for yet, from real answers.

    JOREN_RECORD_API=/tmp/api.jsonl cargo test -p joren-web   # both backends
    python3 scripts/openapi_schemas.py /tmp/api.jsonl

The tests record each JSON answer whose documented response has no schema (tests/common/
openapi.rs); this script infers a schema per (method, path, status) from every answer seen —
types (null where a value was sometimes null), properties, the properties every answer had as
required, array items — and writes it into crates/joren-web/openapi.json. From then on every
test checks its answers against it. Read the result before committing: a field no test ever
filled is left without a type.
"""
import glob
import json
import re
import sys
from collections import defaultdict

DOC = "crates/joren-web/openapi.json"

# Answers that are one resource, described once under components/schemas and referred to.
GROUPS = {
    "CustomerRecord": [("/customers", "post", "201"), ("/customers/{id}", "get", "200"),
                       ("/customers/{id}", "patch", "200"), ("/customers/{id}/consents/{channel}", "put", "200")],
    "OrderRecord": [("/orders", "post", "201"), ("/orders/{id}", "get", "200"),
                    ("/orders/{id}/cancel", "post", "200"), ("/orders/{id}/refunds", "post", "201")],
    "RedemptionRecord": [("/customers/{id}/points/deductions", "post", "201"), ("/points/redemptions", "post", "201"),
                         ("/points/redemptions/{id}", "get", "200"), ("/points/redemptions/{id}/confirm", "post", "200"),
                         ("/points/redemptions/{id}/cancel", "post", "200")],
    "PointsAccount": [("/customers/{id}/points", "get", "200")],
    "RankStatus": [("/customers/{id}/rank", "get", "200"), ("/customers/{id}/rank", "put", "200")],
    "TicketRecord": [("/customers/{id}/tickets", "post", "201"), ("/tickets/{id}", "get", "200"),
                     ("/tickets/{id}/uses", "post", "201"), ("/tickets/{id}/refund", "post", "200")],
    "TicketPlanRecord": [("/ticket-plans", "post", "201"), ("/ticket-plans/{id}", "put", "200")],
    "MembershipRecord": [("/customers/{id}/memberships", "post", "201"), ("/memberships/{id}", "get", "200"),
                         ("/memberships/{id}/changes", "post", "200")],
    "MembershipPlanRecord": [("/membership-plans", "post", "201"), ("/membership-plans/{id}", "put", "200")],
    "PerkRecord": [("/perks", "post", "201"), ("/perks/{id}", "put", "200")],
    "ScenarioRecord": [("/scenarios", "post", "201"), ("/scenarios/{id}", "put", "200"),
                       ("/scenarios/{id}/activate", "post", "200"), ("/scenarios/{id}/pause", "post", "200")],
    "SegmentRecord": [("/segments", "post", "201"), ("/segments/{id}", "put", "200")],
    "MetricsSnapshot": [("/metrics/snapshot", "get", "200"), ("/metrics/snapshot", "post", "201")],
    "PointsProgramme": [("/settings/points", "get", "200"), ("/settings/points", "put", "200")],
    "MailSettingsView": [("/settings/mail", "get", "200"), ("/settings/mail", "put", "200"),
                         ("/settings/mail", "delete", "200")],
    "TaskRecord": [("/tasks", "post", "201"), ("/tasks/{id}", "get", "200"), ("/tasks/{id}/finish", "post", "200")],
    "MessageTemplateRecord": [("/message-templates", "post", "201"), ("/message-templates/{id}", "get", "200"),
                              ("/message-templates/{id}", "put", "200")],
    "ContactRecord": [("/customers/{id}/contacts", "post", "201")],
    "NextActionRules": [("/settings/next-best-action", "get", "200"), ("/settings/next-best-action", "put", "200")],
}

# Inside an answer, a property holding one of the resources above.
NESTED = {"account": "PointsAccount", "scenario": "ScenarioRecord"}

# Free-form JSON (an audit detail, an event's payload, a model's diagnostics, a definition):
# described as an object, not field by field.
FREE = {"detail", "payload", "diagnostics", "definition", "filter", "mapping", "params"}

# Fields that are `Option<…>` somewhere in the workspace: null is allowed and they are not
# required, whatever the recorded answers happened to hold.
OPTIONAL = set()
for path in glob.glob("crates/*/src/**/*.rs", recursive=True):
    OPTIONAL.update(re.findall(r"pub (\w+): Option<", open(path, encoding="utf-8").read()))


def kind(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def infer(values, name=None, depth=0):
    if name in NESTED and depth > 0:
        return {"$ref": f"#/components/schemas/{NESTED[name]}"}
    kinds = {kind(v) for v in values}
    if "number" in kinds:
        kinds.discard("integer")
    if name in OPTIONAL:
        kinds.add("null")
    schema = {}
    real = sorted(kinds - {"null"})
    if real:
        schema["type"] = real[0] if len(real) == 1 and "null" not in kinds else sorted(kinds)
    if name in FREE or depth > 5:
        return schema
    objects = [v for v in values if isinstance(v, dict)]
    if objects:
        keys = sorted({k for o in objects for k in o})
        if len(keys) > 40 and all(k.isdigit() or k[:4].isdigit() for k in keys):
            schema["additionalProperties"] = infer([x for o in objects for x in o.values()], None, depth + 1)
        else:
            schema["properties"] = {k: infer([o[k] for o in objects if k in o], k, depth + 1) for k in keys}
            required = [k for k in keys if all(k in o for o in objects) and k not in OPTIONAL]
            if required:
                schema["required"] = required
    items = [x for v in values if isinstance(v, list) for x in v]
    if items:
        schema["items"] = infer(items, None, depth + 1)
    return schema


def json_answer(schema):
    return {"application/json": {"schema": schema}}


def main():
    seen = defaultdict(list)
    for line in open(sys.argv[1], encoding="utf-8"):
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        seen[(r["path"], r["method"], r["status"])].append(r["body"])
    doc = json.load(open(DOC, encoding="utf-8"))
    schemas = doc["components"]["schemas"]
    grouped = {}
    for name, members in GROUPS.items():
        bodies = [b for m in members for b in seen.get(m, [])]
        if bodies:
            schemas[name] = infer(bodies)
            for m in members:
                grouped[m] = name
    # Lists of a resource: {items: [that resource]}.
    lists = {
        ("/customers/{id}/contacts", "get", "200"): "ContactRecord",
        ("/customers/{id}/tickets", "get", "200"): "TicketRecord",
        ("/ticket-plans", "get", "200"): "TicketPlanRecord",
        ("/membership-plans", "get", "200"): "MembershipPlanRecord",
        ("/perks", "get", "200"): "PerkRecord",
        ("/scenarios", "get", "200"): "ScenarioRecord",
        ("/tasks", "get", "200"): "TaskRecord",
    }
    # Answers no test reaches (a dead job to retry, a real mail server): described by hand.
    if ("/jobs", "get", "200") in seen:
        schemas["JobRecord"] = infer([j for b in seen[("/jobs", "get", "200")] for j in b["items"]])
    by_hand = {
        ("/jobs/{id}/retry", "post", "200"): {"$ref": "#/components/schemas/JobRecord"},
        ("/mail/test", "post", "200"): {
            "type": "object",
            "properties": {"message_id": {"type": "string"}, "test_mode": {"type": "boolean"}},
            "required": ["message_id", "test_mode"],
        },
    }
    csv = {"text/csv": {"schema": {"type": "string", "description": "UTF-8 with BOM, one header row"}}}
    written = 0
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            for status, response in op.get("responses", {}).items():
                if not status.startswith("2") or status == "204" or "content" in response:
                    continue
                key = (path, method, status)
                if key in grouped:
                    schema = {"$ref": f"#/components/schemas/{grouped[key]}"}
                elif key in lists:
                    item = {"$ref": f"#/components/schemas/{lists[key]}"}
                    schema = {"type": "object", "properties": {"items": {"type": "array", "items": item}}, "required": ["items"]}
                elif key in seen:
                    schema = infer(seen[key])
                elif key in by_hand:
                    schema = by_hand[key]
                elif path.startswith("/export/") or path.endswith(".csv"):
                    response["content"] = csv
                    written += 1
                    continue
                else:
                    continue
                response["content"] = json_answer(schema)
                written += 1
    open(DOC, "w", encoding="utf-8").write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    print(f"{written} responses described from {sum(map(len, seen.values()))} answers", file=sys.stderr)


main()
