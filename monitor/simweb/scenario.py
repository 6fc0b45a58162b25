"""Scenario data: validation, per-state views and template expansion.

Nothing here does I/O except reading page files once, when scenarios are compiled.
The format itself is documented in ``monitor/simweb/__init__.py``.
"""

from __future__ import annotations

import codecs
import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PACKAGE_DIR = Path(__file__).resolve().parent
PAGES_DIR = PACKAGE_DIR / "pages"
SCENARIOS_DIR = PACKAGE_DIR / "scenarios"

LIVE_IP = "127.0.0.1"
REFUSED_IP = "127.0.0.2"  # loopback, but nothing listens there: connection refused
BASE_STATE = "before"

_BODY_KEYS = ("body", "file", "body_bytes", "huge", "binary")
RESPONSE_KEYS = frozenset(
    {
        "status",
        "headers",
        "body",
        "file",
        "body_bytes",
        "encoding",
        "charset_header",
        "content_type",
        "redirect",
        "delay",
        "hang",
        "reset",
        "sequence",
        "head",
        "huge",
        "binary",
        "content_length",
        "etag",
    }
)
DEFAULTS_KEYS = frozenset(
    {"delay", "headers", "hang", "reset", "etag", "encoding", "charset_header", "head"}
)
HOST_OPTION_KEYS = frozenset(
    {"catch_all", "not_found", "robots", "refused", "vanished", "tls", "defaults", "vars"}
)
HOST_KEYS = HOST_OPTION_KEYS | {"pages", "states"}

ROBOTS_PATH = "/robots.txt"
DEFAULT_NOT_FOUND: dict[str, Any] = {"status": 404}
# ``tls: broken`` fails every TLS handshake that names the host (SNI); plain HTTP still works.
TLS_MODES = frozenset({"ok", "broken"})


class ScenarioError(ValueError):
    """A scenario is malformed; the message names the host, state and path."""


# --------------------------------------------------------------------------- templates

_VAR = re.compile(r"\{(\w+)\}")
_URL = re.compile(r"\{url:([^{}\s]+)\}")


def render(
    text: str,
    *,
    port: int,
    host: str,
    path: str,
    variables: Mapping[str, str],
    scheme: str = "http",
) -> str:
    """Expand ``{port}``, ``{host}``, ``{path}``, host ``vars`` and ``{url:host/path}``.

    Unknown ``{names}`` are left alone, so CSS, JavaScript and JSON-LD survive.
    ``{url:/path}`` points at the current host. ``scheme`` and ``port`` are the listener's
    that serves the page, so a page fetched over TLS links to https URLs that work.
    """
    values = {**variables, "port": str(port), "host": host, "path": path}
    text = _VAR.sub(lambda m: values.get(m.group(1), m.group(0)), text)

    def url(match: re.Match[str]) -> str:
        target = match.group(1)
        if target.startswith("/"):
            return f"{scheme}://{host}:{port}{target}"
        name, _, rest = target.partition("/")
        return f"{scheme}://{name}:{port}/{rest}"

    return _URL.sub(url, text)


# --------------------------------------------------------------------------- validation


def _fail(where: str, message: str) -> ScenarioError:
    return ScenarioError(f"{where}: {message}")


def _check_type(where: str, key: str, value: Any, types: type | tuple[type, ...]) -> None:
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise _fail(where, f"{key!r} must be {types}, got a bool")
    if not isinstance(value, types):
        raise _fail(where, f"{key!r} must be {types}, got {type(value).__name__}")


def normalise_response(
    spec: Any,
    where: str,
    pages_dir: Path,
    *,
    allow_sequence: bool = True,
    allow_head: bool = True,
    allowed: frozenset[str] = RESPONSE_KEYS,
) -> dict[str, Any]:
    """Validate one response spec and return a cleaned copy (``file`` is read into ``body``)."""
    if isinstance(spec, str):
        spec = {"body": spec}
    if not isinstance(spec, Mapping):
        raise _fail(where, f"expected a mapping or a string, got {type(spec).__name__}")
    unknown = set(spec) - allowed
    if unknown:
        raise _fail(where, f"unknown option(s) {sorted(unknown)}; known: {sorted(allowed)}")
    out = dict(spec)

    if "sequence" in out:
        if not allow_sequence:
            raise _fail(where, "'sequence' cannot be nested")
        return _normalise_sequence(out, where, pages_dir)

    bodies = [k for k in _BODY_KEYS if k in out]
    if len(bodies) > 1:
        raise _fail(where, f"choose one of {bodies}")
    if "file" in out:
        _read_file(out, where, pages_dir)
    _check_options(out, where)
    if "head" in out:
        if not allow_head:
            raise _fail(where, "'head' cannot be nested")
        out["head"] = normalise_response(
            out["head"], f"{where} head", pages_dir, allow_sequence=False, allow_head=False
        )
    return out


def _normalise_sequence(out: dict[str, Any], where: str, pages_dir: Path) -> dict[str, Any]:
    """A ``sequence`` spec: alone, a non-empty list, each item a response with no sequence."""
    if len(out) != 1:
        raise _fail(where, "'sequence' cannot be combined with other options")
    items = out["sequence"]
    if not isinstance(items, list) or not items:
        raise _fail(where, "'sequence' must be a non-empty list")
    out["sequence"] = [
        normalise_response(item, f"{where} sequence[{i}]", pages_dir, allow_sequence=False)
        for i, item in enumerate(items)
    ]
    return out


def _read_file(out: dict[str, Any], where: str, pages_dir: Path) -> None:
    """Replace ``file`` by the page file's text as ``body``."""
    _check_type(where, "file", out["file"], str)
    path = Path(pages_dir) / out.pop("file")
    try:
        out["body"] = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _fail(where, f"cannot read page file {path}: {exc}") from exc


def _check_options(out: dict[str, Any], where: str) -> None:
    """Check the options' types and values; clean ``headers`` to a str -> str mapping."""
    for key, types in (
        ("status", int),
        ("body", str),
        ("body_bytes", bytes),
        ("encoding", str),
        ("content_type", str),
        ("redirect", str),
        ("delay", (int, float)),
        ("huge", int),
        ("binary", int),
    ):
        if key in out:
            _check_type(where, key, out[key], types)
    for key in ("hang", "reset", "charset_header", "content_length", "etag"):
        if key in out:
            _check_type(where, key, out[key], bool)
    if "status" in out and not 100 <= out["status"] <= 999:
        raise _fail(where, f"status {out['status']} is not a three-digit code")
    for key in ("delay", "huge", "binary"):
        if out.get(key, 0) < 0:
            raise _fail(where, f"{key!r} must not be negative")
    if "headers" in out:
        headers = out["headers"]
        if not isinstance(headers, Mapping):
            raise _fail(where, "'headers' must be a mapping")
        out["headers"] = {str(k): str(v) for k, v in headers.items()}
    if "encoding" in out:
        try:
            codecs.lookup(out["encoding"])
        except LookupError as exc:
            raise _fail(where, f"unknown encoding {out['encoding']!r}") from exc
        if "body" in out:
            try:
                out["body"].encode(out["encoding"])
            except UnicodeEncodeError as exc:
                raise _fail(where, f"body cannot be encoded as {out['encoding']}: {exc}") from exc


# --------------------------------------------------------------------------- hosts


@dataclass(frozen=True)
class HostView:
    """One host as it is in one state: what the server consults for every request."""

    name: str
    pages: Mapping[str, dict[str, Any]]
    catch_all: dict[str, Any] | None = None
    not_found: dict[str, Any] | None = None
    robots: str | None = None
    refused: bool = False
    vanished: bool = False
    tls: str = "ok"
    defaults: Mapping[str, Any] = field(default_factory=dict)
    variables: Mapping[str, str] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        return not (self.refused or self.vanished)

    def lookup(self, path: str) -> tuple[str, dict[str, Any]]:
        """Return ``(key, spec)`` for a request path (query string included).

        Order: exact page, page without query, robots.txt, catch_all, not_found.
        ``key`` identifies the matched entry (used to count sequence positions).
        """
        if path in self.pages:
            return path, self.pages[path]
        bare = path.split("?", 1)[0].split("#", 1)[0] or "/"
        if bare in self.pages:
            return bare, self.pages[bare]
        if bare == ROBOTS_PATH:
            if self.robots is None:
                return ROBOTS_PATH, DEFAULT_NOT_FOUND
            return ROBOTS_PATH, {"body": self.robots, "content_type": "text/plain; charset=utf-8"}
        if self.catch_all is not None:
            return "<catch_all>", self.catch_all
        return "<not_found>", self.not_found or DEFAULT_NOT_FOUND

    def with_defaults(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        if not self.defaults:
            return dict(spec)
        merged = {**self.defaults, **spec}
        if "headers" in self.defaults and "headers" in spec:
            merged["headers"] = {**self.defaults["headers"], **spec["headers"]}
        return merged


def _host_options(spec: Mapping[str, Any], where: str, pages_dir: Path) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for key in ("catch_all", "not_found"):
        if key in spec:
            value = spec[key]
            options[key] = (
                None if value is None else normalise_response(value, f"{where} {key}", pages_dir)
            )
    if options.get("not_found") is not None:
        options["not_found"].setdefault("status", 404)
    if "robots" in spec:
        if spec["robots"] is not None:
            _check_type(where, "robots", spec["robots"], str)
        options["robots"] = spec["robots"]
    for key in ("refused", "vanished"):
        if key in spec:
            _check_type(where, key, spec[key], bool)
            options[key] = spec[key]
    if "tls" in spec:
        if spec["tls"] not in TLS_MODES:
            raise _fail(where, f"'tls' must be one of {sorted(TLS_MODES)}, got {spec['tls']!r}")
        options["tls"] = spec["tls"]
    if "defaults" in spec:
        options["defaults"] = normalise_response(
            spec["defaults"] or {},
            f"{where} defaults",
            pages_dir,
            allow_sequence=False,
            allowed=DEFAULTS_KEYS,
        )
    if "vars" in spec:
        variables = spec["vars"] or {}
        if not isinstance(variables, Mapping):
            raise _fail(where, "'vars' must be a mapping")
        options["vars"] = {str(k): str(v) for k, v in variables.items()}
    return options


def _pages(spec: Any, where: str, pages_dir: Path) -> dict[str, dict[str, Any] | None]:
    if spec is None:
        return {}
    if not isinstance(spec, Mapping):
        raise _fail(where, "'pages' must be a mapping of path -> response")
    pages: dict[str, dict[str, Any] | None] = {}
    for path, response in spec.items():
        if not isinstance(path, str) or not path.startswith("/"):
            raise _fail(where, f"page path {path!r} must start with '/'")
        pages[path] = (
            None if response is None else normalise_response(response, f"{where} {path}", pages_dir)
        )
    return pages


@dataclass(frozen=True)
class HostScenario:
    """A compiled host: its base ("before") data and per-state overlays."""

    name: str
    pages: dict[str, dict[str, Any] | None]
    options: dict[str, Any]
    states: dict[str, tuple[dict[str, dict[str, Any] | None], dict[str, Any]]]

    def view(self, state: str) -> HostView:
        """The host in ``state``; a state the scenario does not define falls back to "before"."""
        overlay_pages, overlay_options = self.states.get(
            state, self.states.get(BASE_STATE, ({}, {}))
        )
        pages = {**self.pages, **overlay_pages}
        options = {**self.options, **overlay_options}
        for key in ("vars", "defaults"):
            if key in self.options and key in overlay_options:
                options[key] = {**self.options[key], **overlay_options[key]}
        return HostView(
            name=self.name,
            pages={path: spec for path, spec in pages.items() if spec is not None},
            catch_all=options.get("catch_all"),
            not_found=options.get("not_found"),
            robots=options.get("robots"),
            refused=options.get("refused", False),
            vanished=options.get("vanished", False),
            tls=options.get("tls", "ok"),
            defaults=options.get("defaults", {}),
            variables=options.get("vars", {}),
        )


def _compile_host(name: str, spec: Any, pages_dir: Path) -> HostScenario:
    where = name
    if spec is None:
        spec = {}
    if not isinstance(spec, Mapping):
        raise _fail(where, f"expected a mapping, got {type(spec).__name__}")
    unknown = set(spec) - HOST_KEYS
    if unknown:
        raise _fail(where, f"unknown host option(s) {sorted(unknown)}; known: {sorted(HOST_KEYS)}")
    pages = _pages(spec.get("pages"), where, pages_dir)
    options = _host_options(spec, where, pages_dir)
    states: dict[str, tuple[dict[str, dict[str, Any] | None], dict[str, Any]]] = {}
    raw_states = spec.get("states") or {}
    if not isinstance(raw_states, Mapping):
        raise _fail(where, "'states' must be a mapping of state name -> overrides")
    for state, overrides in raw_states.items():
        state_where = f"{name} [state {state}]"
        overrides = overrides or {}
        if not isinstance(overrides, Mapping):
            raise _fail(state_where, "expected a mapping of overrides")
        page_overrides = {k: v for k, v in overrides.items() if str(k).startswith("/")}
        page_overrides.update(overrides.get("pages") or {})
        rest = {k: v for k, v in overrides.items() if not str(k).startswith("/") and k != "pages"}
        unknown = set(rest) - HOST_OPTION_KEYS
        if unknown:
            raise _fail(
                state_where,
                f"unknown override(s) {sorted(unknown)}; use '/path' keys or {sorted(HOST_OPTION_KEYS)}",
            )
        states[str(state)] = (
            _pages(page_overrides, state_where, pages_dir),
            _host_options(rest, state_where, pages_dir),
        )
    return HostScenario(name=name, pages=pages, options=options, states=states)


def normalise_host(name: str) -> str:
    host = name.strip().lower().rstrip(".")
    if not host or any(c in host for c in ":/ "):
        raise ScenarioError(f"{name!r}: a host name is a bare name such as 'example.test'")
    return host


def compile_scenarios(
    scenarios: Mapping[str, Any], pages_dir: Path | str | None = None
) -> dict[str, HostScenario]:
    """Validate scenario data and compile it; raise ScenarioError naming the bad entry."""
    if not isinstance(scenarios, Mapping):
        raise ScenarioError(f"scenarios must be a mapping of host -> spec, got {type(scenarios)}")
    pages_path = Path(pages_dir) if pages_dir is not None else PAGES_DIR
    compiled: dict[str, HostScenario] = {}
    for name, spec in scenarios.items():
        host = normalise_host(str(name))
        if host in compiled:
            raise ScenarioError(f"{name!r}: host defined twice")
        compiled[host] = _compile_host(host, spec, pages_path)
    return compiled


# --------------------------------------------------------------------------- loading


def load_scenarios(path: Path | str) -> dict[str, Any]:
    """Read one YAML scenario file (a mapping of host -> spec)."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a mapping of host -> spec")
    # Deep copies: YAML aliases share objects, and editing one host must not edit another.
    return {str(k): copy.deepcopy(v) for k, v in data.items() if not str(k).startswith(".")}


def load_catalogue(directory: Path | str | None = None) -> dict[str, Any]:
    """Load every ``*.yaml`` under ``scenarios/`` (merged; a host may be defined once).

    Returns a fresh dict each call, so callers may add or override hosts freely.
    Top-level keys starting with "." are YAML anchors for sharing, not hosts.
    """
    folder = Path(directory) if directory is not None else SCENARIOS_DIR
    catalogue: dict[str, Any] = {}
    for path in sorted(folder.glob("*.yaml")):
        for host, spec in load_scenarios(path).items():
            if host in catalogue:
                raise ScenarioError(f"{path}: host {host!r} is already defined")
            catalogue[host] = spec
    return catalogue
