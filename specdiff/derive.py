"""Turn a loaded document into frozen values: operations, servers, security schemes.

Swagger 2.0 and OpenAPI 3.x are normalised here, once: body and formData parameters become a
request body, ``produces`` and response ``schema`` become response content, ``schemes`` x
``host`` + ``basePath`` become servers, ``securityDefinitions`` become security schemes.
Everything downstream reads these values, never the raw document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast

from specdiff._gcpause import gc_paused
from specdiff.errors import SpecError
from specdiff.model import (
    ApiModel,
    Link,
    MediaType,
    Operation,
    Parameter,
    RequestBody,
    Response,
    SecurityRequirement,
    SecurityScheme,
    Server,
)
from specdiff.schema import Schema, escape_pointer
from specdiff.spec import Spec

__all__ = ["HTTP_METHODS", "derive"]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PARAM_LOCATIONS = ("path", "query", "header", "cookie")
_ParamLocation = Literal["path", "query", "header", "cookie"]


@gc_paused()
def derive(spec: Spec) -> ApiModel:
    """Every operation of ``spec`` with its effective security, plus servers and schemes."""
    data = spec.data
    swagger = spec.version.startswith("2")
    warnings: list[str] = list(spec.warnings)
    operations: list[Operation] = []
    top_security = data.get("security")
    memo: dict[str, Any] = {}  # where -> derived value: shared components are derived once
    paths = data.get("paths") or {}
    for path, raw_item in paths.items() if isinstance(paths, Mapping) else ():
        item, item_where = spec.deref(raw_item, spec.where("paths", path))
        if not isinstance(item, Mapping):
            warnings.append(f"path {path!r} is not an object; skipped")
            continue
        shared_params = item.get("parameters") or []
        for method in HTTP_METHODS:
            node = item.get(method)
            if not isinstance(node, Mapping):
                continue
            where = f"{item_where}/{method}"
            params, body = _parameters(
                spec, shared_params, f"{item_where}/parameters", node, where, swagger, memo
            )
            if not swagger:
                body = _request_body(spec, node.get("requestBody"), f"{where}/requestBody", memo)
            security = node.get("security", top_security)
            operations.append(
                Operation(
                    method=method.upper(),
                    path=str(path),
                    operation_id=_str_or_none(node.get("operationId")),
                    location=spec.location(where),
                    parameters=params,
                    request_body=body,
                    responses=_responses(spec, node, where, swagger, memo),
                    security=_security(security),
                    summary=_str_or_none(node.get("summary")),
                    tags=tuple(str(t) for t in node.get("tags") or () if isinstance(t, str)),
                    deprecated=node.get("deprecated") is True,
                    ignore=_ignores(node.get("x-specdiff-ignore"), f"{method.upper()} {path}"),
                )
            )
    info = data.get("info") if isinstance(data.get("info"), Mapping) else {}
    assert isinstance(info, Mapping)
    return ApiModel(
        source=spec.display,
        title=str(info.get("title", "")),
        version=str(info.get("version", "")),
        openapi_version=spec.version,
        operations=tuple(operations),
        servers=_servers(spec, swagger),
        security_schemes=_security_schemes(spec, swagger),
        warnings=tuple(warnings),
    )


def _ignores(raw: Any, where: str) -> tuple[tuple[str, str], ...]:
    """``x-specdiff-ignore: [{rule: SD301, reason: ...}]`` -> (rule, reason) pairs.

    A reason is required: an ignore nobody can explain is a finding nobody looked at.
    """
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise SpecError(f"{where}: x-specdiff-ignore must be a list of {{rule, reason}}")
    out = []
    for entry in raw:
        rule = entry.get("rule") if isinstance(entry, Mapping) else entry
        reason = entry.get("reason") if isinstance(entry, Mapping) else None
        if not isinstance(rule, str) or not rule.strip():
            raise SpecError(f"{where}: x-specdiff-ignore entry without a rule code: {entry!r}")
        if not isinstance(reason, str) or not reason.strip():
            raise SpecError(f"{where}: x-specdiff-ignore of {rule} needs a reason")
        out.append((rule.strip().upper(), reason.strip()))
    return tuple(out)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _example(node: Mapping[str, Any]) -> Any:
    if "example" in node:
        return node["example"]
    examples = node.get("examples")
    if isinstance(examples, Mapping):
        for ex in examples.values():
            if isinstance(ex, Mapping) and "value" in ex:
                return ex["value"]
    return None


def _parameters(
    spec: Spec,
    shared: Any,
    shared_where: str,
    node: Mapping[str, Any],
    where: str,
    swagger: bool,
    memo: dict[str, Any],
) -> tuple[tuple[Parameter, ...], RequestBody | None]:
    """Path-level parameters overridden by operation-level ones (by name and location)."""
    merged: dict[tuple[str, str], tuple[Mapping[str, Any], str]] = {}
    for raw_list, list_where in (
        (shared, shared_where),
        (node.get("parameters"), f"{where}/parameters"),
    ):
        if not isinstance(raw_list, list):
            continue
        for i, raw in enumerate(raw_list):
            param, p_where = spec.deref(raw, f"{list_where}/{i}")
            if isinstance(param, Mapping) and "name" in param and "in" in param:
                merged[(str(param["name"]), str(param["in"]))] = (param, p_where)
    params: list[Parameter] = []
    body: RequestBody | None = None
    form_fields: dict[str, tuple[Mapping[str, Any], str]] = {}
    for (name, location), (param, p_where) in merged.items():
        if swagger and location == "body":
            schema = Schema(param.get("schema"), f"{p_where}/schema", spec)
            consumes = node.get("consumes") or spec.data.get("consumes") or ["application/json"]
            body = RequestBody(
                required=param.get("required") is True,
                content=tuple(MediaType(str(mt), schema) for mt in consumes),
            )
            continue
        if swagger and location == "formData":
            form_fields[name] = (param, p_where)
            continue
        if location not in _PARAM_LOCATIONS:
            continue
        parameter = memo.get(p_where)
        if parameter is None:
            parameter = memo[p_where] = _parameter(spec, name, location, param, p_where)
        params.append(parameter)
    if form_fields:
        body = _form_body(spec, node, where, form_fields)
    return tuple(params), body


def _parameter(
    spec: Spec, name: str, location: str, param: Mapping[str, Any], where: str
) -> Parameter:
    if "schema" in param:
        schema = Schema(param["schema"], f"{where}/schema", spec)
    else:  # Swagger 2.0 keeps type/format/enum on the parameter itself
        schema = Schema(param, where, spec)
    return Parameter(
        name=name,
        location=cast(_ParamLocation, location),
        required=param.get("required") is True or location == "path",
        schema=schema,
        example=_example(param),
    )


def _form_body(
    spec: Spec,
    node: Mapping[str, Any],
    where: str,
    fields: Mapping[str, tuple[Mapping[str, Any], str]],
) -> RequestBody:
    """Swagger 2.0 formData parameters as one object schema."""
    properties = {name: dict(param) for name, (param, _) in fields.items()}
    required = [name for name, (param, _) in fields.items() if param.get("required") is True]
    schema_node = {"type": "object", "properties": properties, "required": required}
    has_file = any(p.get("type") == "file" for p, _ in fields.values())
    consumes = node.get("consumes") or (
        ["multipart/form-data"] if has_file else ["application/x-www-form-urlencoded"]
    )
    schema = Schema(schema_node, f"{where}/parameters", spec)
    return RequestBody(
        required=bool(required), content=tuple(MediaType(str(mt), schema) for mt in consumes)
    )


def _content(spec: Spec, content: Any, where: str, memo: dict[str, Any]) -> tuple[MediaType, ...]:
    if not isinstance(content, Mapping):
        return ()
    known: tuple[MediaType, ...] | None = memo.get(where)
    if known is not None:
        return known
    media: list[MediaType] = []
    for mt, raw in content.items():
        mt_where = f"{where}/{escape_pointer(str(mt))}"
        node, node_where = spec.deref(raw, mt_where)
        if not isinstance(node, Mapping):
            media.append(MediaType(str(mt), None))
            continue
        schema = Schema(node["schema"], f"{node_where}/schema", spec) if "schema" in node else None
        media.append(MediaType(str(mt), schema, _example(node)))
    memo[where] = result = tuple(media)
    return result


def _request_body(spec: Spec, raw: Any, where: str, memo: dict[str, Any]) -> RequestBody | None:
    if raw is None:
        return None
    node, node_where = spec.deref(raw, where)
    if not isinstance(node, Mapping):
        return None
    return RequestBody(
        required=node.get("required") is True,
        content=_content(spec, node.get("content"), f"{node_where}/content", memo),
    )


def _responses(
    spec: Spec, node: Mapping[str, Any], where: str, swagger: bool, memo: dict[str, Any]
) -> tuple[Response, ...]:
    raw = node.get("responses")
    if not isinstance(raw, Mapping):
        return ()
    produces = node.get("produces") or spec.data.get("produces") or ["application/json"]
    responses: list[Response] = []
    for status, raw_resp in raw.items():
        r_where = f"{where}/responses/{escape_pointer(str(status))}"
        resp, resp_where = spec.deref(raw_resp, r_where)
        if not isinstance(resp, Mapping):
            continue
        if swagger:
            content: tuple[MediaType, ...] = ()
            if "schema" in resp:
                schema = Schema(resp["schema"], f"{resp_where}/schema", spec)
                content = tuple(MediaType(str(mt), schema) for mt in produces)
        else:
            content = _content(spec, resp.get("content"), f"{resp_where}/content", memo)
        headers = resp.get("headers")
        responses.append(
            Response(
                status=str(status),
                content=content,
                headers=tuple(str(h) for h in headers) if isinstance(headers, Mapping) else (),
                links=_links(spec, resp.get("links"), f"{resp_where}/links"),
            )
        )
    return tuple(responses)


def _links(spec: Spec, raw: Any, where: str) -> tuple[Link, ...]:
    """A response's ``links`` that name their target by ``operationId``, with the parameters
    whose value is a runtime expression (``$response.body#/id``)."""
    if not isinstance(raw, Mapping):
        return ()
    found: list[Link] = []
    for name, raw_link in raw.items():
        link, _ = spec.deref(raw_link, f"{where}/{escape_pointer(str(name))}")
        if not isinstance(link, Mapping) or not isinstance(link.get("operationId"), str):
            continue
        params = link.get("parameters")
        pairs = (
            tuple(
                (str(k).rsplit(".", 1)[-1], v)
                for k, v in params.items()
                if isinstance(v, str) and v.startswith("$response.body")
            )
            if isinstance(params, Mapping)
            else ()
        )
        if pairs:
            found.append(Link(link["operationId"], pairs))
    return tuple(found)


def _security(raw: Any) -> tuple[SecurityRequirement, ...]:
    if not isinstance(raw, list):
        return ()
    alternatives: list[SecurityRequirement] = []
    for req in raw:
        if not isinstance(req, Mapping):
            continue
        alternatives.append(
            tuple(
                sorted(
                    (str(name), tuple(str(s) for s in scopes) if isinstance(scopes, list) else ())
                    for name, scopes in req.items()
                )
            )
        )
    return tuple(alternatives)


def _servers(spec: Spec, swagger: bool) -> tuple[Server, ...]:
    data = spec.data
    if swagger:
        host = data.get("host")
        if not isinstance(host, str) or not host:
            return ()
        base = data.get("basePath") if isinstance(data.get("basePath"), str) else ""
        schemes = data.get("schemes") or ["https"]
        location = spec.location(spec.where("schemes") if "schemes" in data else spec.where("host"))
        return tuple(Server(f"{scheme}://{host}{base}", location) for scheme in schemes)
    raw = data.get("servers")
    if not isinstance(raw, list):
        return ()
    servers: list[Server] = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("url"), str):
            continue
        url = str(entry["url"])
        variables = entry.get("variables")
        if isinstance(variables, Mapping):
            for name, var in variables.items():
                if isinstance(var, Mapping) and "default" in var:
                    url = url.replace("{" + str(name) + "}", str(var["default"]))
        servers.append(Server(url, spec.location(spec.where("servers", i))))
    return tuple(servers)


def _security_schemes(spec: Spec, swagger: bool) -> dict[str, SecurityScheme]:
    if swagger:
        raw = spec.data.get("securityDefinitions")
        base_where = spec.where("securityDefinitions")
    else:
        components = spec.data.get("components")
        raw = components.get("securitySchemes") if isinstance(components, Mapping) else None
        base_where = spec.where("components", "securitySchemes")
    schemes: dict[str, SecurityScheme] = {}
    if not isinstance(raw, Mapping):
        return schemes
    for name, raw_scheme in raw.items():
        node, where = spec.deref(raw_scheme, f"{base_where}/{escape_pointer(str(name))}")
        if not isinstance(node, Mapping):
            continue
        kind = str(node.get("type", ""))
        location = spec.location(where)
        if kind == "basic":  # Swagger 2.0
            schemes[name] = SecurityScheme(name, "http", scheme="basic", location=location)
        elif kind == "http":
            schemes[name] = SecurityScheme(
                name,
                "http",
                scheme=str(node.get("scheme", "")).lower() or None,
                bearer_format=_str_or_none(node.get("bearerFormat")),
                location=location,
            )
        elif kind == "apiKey":
            where_in = str(node.get("in", "header"))
            schemes[name] = SecurityScheme(
                name,
                "apiKey",
                param_name=_str_or_none(node.get("name")),
                param_location=cast(
                    Literal["header", "query", "cookie"],
                    where_in if where_in in ("header", "query", "cookie") else "header",
                ),
                location=location,
            )
        elif kind in ("oauth2", "openIdConnect", "mutualTLS"):
            schemes[name] = SecurityScheme(
                name,
                cast(Literal["oauth2", "openIdConnect", "mutualTLS"], kind),
                scopes=_oauth_scopes(node),
                open_id_connect_url=_str_or_none(node.get("openIdConnectUrl")),
                location=location,
            )
    return schemes


def _oauth_scopes(node: Mapping[str, Any]) -> tuple[str, ...]:
    scopes: set[str] = set()
    if isinstance(node.get("scopes"), Mapping):  # Swagger 2.0
        scopes |= {str(s) for s in node["scopes"]}
    flows = node.get("flows")
    if isinstance(flows, Mapping):
        for flow in flows.values():
            if isinstance(flow, Mapping) and isinstance(flow.get("scopes"), Mapping):
                scopes |= {str(s) for s in flow["scopes"]}
    return tuple(sorted(scopes))
