"""The OpenAPI document covers every /api/v1 route and method, and its references resolve."""
import re

import pytest

RULE_ARG = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@pytest.fixture
def doc(api):
    resp = api.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    return resp.get_json()


def test_every_api_route_and_method_is_documented(app, doc):
    seen = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = RULE_ARG.sub(r"{\1}", rule.rule)
        assert path in doc["paths"], f"{rule.rule} is not in openapi.json"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in doc["paths"][path], f"{method} {path} is not documented"
            seen += 1
    assert seen >= 7


def test_documented_paths_exist(app, doc):
    rules = {RULE_ARG.sub(r"{\1}", r.rule): r.methods for r in app.url_map.iter_rules()}
    for path, operations in doc["paths"].items():
        assert path in rules, f"openapi.json documents {path}, which has no route"
        for method in operations:
            assert method.upper() in rules[path]
        for name in re.findall(r"{([^}]+)}", path):
            for op in operations.values():
                assert any(p["name"] == name and p["in"] == "path"
                           for p in op.get("parameters", [])), f"{path}: {name} undeclared"


def test_shapes_and_security_scheme(doc):
    assert doc["openapi"].startswith("3.")
    schemas = doc["components"]["schemas"]
    assert schemas["Money"]["required"] == ["amount", "currency"]
    assert schemas["Money"]["properties"]["amount"]["type"] == "integer"
    assert set(schemas["Error"]["properties"]["error"]["required"]) == {"code", "message",
                                                                        "details"}
    assert {"id", "sku", "name", "price", "stock", "category", "seller", "origin", "certified",
            "url"} <= set(schemas["ProductItem"]["properties"])
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["bearerAuth"]["description"]}
    create = doc["paths"]["/api/v1/seller/products"]["post"]
    assert create["security"] == [{"bearerAuth": []}]
    assert "201" in create["responses"] and "401" in create["responses"]


def test_every_reference_resolves(doc):
    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    refs = list(walk(doc))
    assert refs
    for ref in refs:
        assert ref.startswith("#/")
        target = doc
        for part in ref[2:].split("/"):
            assert part in target, f"{ref} does not resolve"
            target = target[part]


def test_operation_ids_are_unique(doc):
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
