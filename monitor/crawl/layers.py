"""A command's settings, layered as Scrapy layers them, without importing Scrapy.

``freshness run`` over several crawler processes (or over Redis workers) coordinates: it reads a
few ``FRESHNESS_`` settings and hands every setting to its crawlers. Importing Scrapy only for
its ``Settings`` class would keep about 45 MB in that process for the whole crawl, since
``scrapy.settings`` cannot be imported without the rest of Scrapy and Twisted.

``LayeredSettings`` holds the same layers as ``build_settings``: ``spiders.settings``, then the
config file's ``[settings]`` (both at Scrapy's "project" priority), then the ``FRESHNESS_*``
environment variables ("environment", between the two), then ``-s NAME=VALUE`` and the
command's options ("cmdline"). Its getters convert values exactly as Scrapy's do. Scrapy's own
defaults are not in it: the coordinator reads none of them. Wherever a crawl runs in the same
process, ``scrapy_settings`` turns it into real Scrapy settings, built from the same layers.

    >>> settings = LayeredSettings({"FRESHNESS_PROCESSES": "2"}, {"FRESHNESS_ORGS": "a,b"})
    >>> settings.getint("FRESHNESS_PROCESSES"), settings.getlist("FRESHNESS_ORGS")
    (2, ['a', 'b'])
    >>> settings.getpriority("FRESHNESS_ORGS")
    40
"""

from __future__ import annotations

import copy
import difflib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy.settings import Settings

    from storage.db import Store

# Scrapy's numbers for the layers freshness uses (scrapy.settings.SETTINGS_PRIORITIES), and one
# of ours between them: an environment variable outranks the config file, -s outranks both.
PRIORITIES = {"project": 20, "environment": 25, "cmdline": 40}
PREFIX = "FRESHNESS_"


class UnknownSetting(ValueError):
    """A ``FRESHNESS_`` name that is not in the table of settings (a typo, most likely)."""


def environment_layer(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every ``FRESHNESS_*`` variable of ``environ`` (the process's environment by default).
    An empty variable counts as unset, as it always has for FRESHNESS_DB and FRESHNESS_NOW."""
    environ = os.environ if environ is None else environ
    return {name: value for name, value in environ.items() if name.startswith(PREFIX) and value}


def known_settings() -> frozenset[str]:
    """The names of the table of settings, ``spiders.settings``."""
    return frozenset(_module_settings())


def check_known(names: Iterable[str], where: str) -> None:
    """Refuse a ``FRESHNESS_`` name the table does not have, naming the closest one that it has.
    Other names (Scrapy's own, such as LOG_LEVEL) are Scrapy's business and pass."""
    known = sorted(name for name in known_settings() if name.startswith(PREFIX))
    for name in names:
        if name.startswith(PREFIX) and name not in known:
            # Compared without the prefix, which every candidate shares.
            close = difflib.get_close_matches(
                name.removeprefix(PREFIX), [k.removeprefix(PREFIX) for k in known], n=1, cutoff=0
            )
            hint = f"; did you mean {PREFIX}{close[0]}?" if close else ""
            raise UnknownSetting(f"unknown setting {name} {where}{hint}")


def _priority(priority: int | str) -> int:
    if isinstance(priority, str):
        try:
            return PRIORITIES[priority]
        except KeyError:
            raise ValueError(f"unknown settings priority {priority!r}") from None
    if priority not in PRIORITIES.values():
        raise ValueError(f"settings priority {priority} is none of {PRIORITIES}")
    return priority


class LayeredSettings:
    """spiders.settings < project (config file) < environment < cmdline, read like Scrapy's
    ``Settings``."""

    def __init__(
        self,
        project: Mapping[str, Any] | None = None,
        cmdline: Mapping[str, Any] | None = None,
        environment: Mapping[str, Any] | None = None,
    ) -> None:
        self._project: dict[str, Any] = dict(project or {})
        self._environment: dict[str, Any] = dict(environment or {})
        self._cmdline: dict[str, Any] = dict(cmdline or {})
        self._module = _module_settings()
        self._memo: dict[str, Any] = {}

    # -- layers -------------------------------------------------------------------------------

    def _above(self, priority: int) -> list[dict[str, Any]]:
        """The layers that outrank ``priority``: a setting there hides one set at it."""
        order = [
            (PRIORITIES["environment"], self._environment),
            (PRIORITIES["cmdline"], self._cmdline),
        ]
        return [layer for number, layer in order if number > priority]

    def set(self, name: str, value: Any, priority: int | str = "project") -> None:
        number = _priority(priority)
        self._memo.clear()  # what was parsed from the settings may no longer hold
        if any(name in layer for layer in self._above(number)):
            return
        layer = {
            PRIORITIES["project"]: self._project,
            PRIORITIES["environment"]: self._environment,
            PRIORITIES["cmdline"]: self._cmdline,
        }[number]
        layer[name] = value

    def copy(self) -> LayeredSettings:
        return copy.deepcopy(self)

    def layers(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """The project layer (config file, above spiders.settings), the environment and the
        command line."""
        return dict(self._project), dict(self._environment), dict(self._cmdline)

    def memo(self, key: str, build: Callable[[], Any]) -> Any:
        """``build()``, once until a setting changes: what is parsed from the settings (the
        ``Policy``) is parsed once per settings object, however many places ask for it."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    # -- reading, with Scrapy's conversions ----------------------------------------------------

    def __contains__(self, name: object) -> bool:
        return any(name in layer for layer in self._layers())

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def _layers(self) -> tuple[dict[str, Any], ...]:
        """Highest first."""
        return (self._cmdline, self._environment, self._project, self._module)

    def get(self, name: str, default: Any = None) -> Any:
        for layer in self._layers():
            if name in layer:
                return layer[name]
        return default

    def getpriority(self, name: str) -> int | None:
        if name in self._cmdline:
            return PRIORITIES["cmdline"]
        if name in self._environment:
            return PRIORITIES["environment"]
        if name in self._project or name in self._module:
            return PRIORITIES["project"]
        return None

    def getbool(self, name: str, default: bool = False) -> bool:
        got = self.get(name, default)
        try:
            return bool(int(got))
        except ValueError:
            if got in {"True", "true"}:
                return True
            if got in {"False", "false"}:
                return False
            raise ValueError(
                "Supported values for boolean settings are 0/1, True/False, '0'/'1', "
                "'True'/'False' and 'true'/'false'"
            ) from None

    def getint(self, name: str, default: int = 0) -> int:
        return int(self.get(name, default))

    def getfloat(self, name: str, default: float = 0.0) -> float:
        return float(self.get(name, default))

    def getlist(self, name: str, default: list[Any] | None = None) -> list[Any]:
        value = self.get(name, default or [])
        if not value:
            return []
        if isinstance(value, str):
            value = value.split(",")
        return list(value)

    def getdict(self, name: str, default: dict[Any, Any] | None = None) -> dict[Any, Any]:
        value = self.get(name, default or {})
        if isinstance(value, str):
            value = json.loads(value)
        return dict(value)

    def copy_to_dict(self) -> dict[str, Any]:
        return {**self._module, **self._project, **self._environment, **self._cmdline}


def _module_settings() -> dict[str, Any]:
    import spiders.settings as module

    # As Scrapy's Settings.setmodule reads a module: every upper-case name.
    return {name: getattr(module, name) for name in dir(module) if name.isupper()}


def scrapy_settings(settings: Any) -> Any:
    """Real Scrapy settings for a crawl in this process: ``settings`` itself when it is one
    already, otherwise built from the same layers (Scrapy imported here, not before)."""
    if not isinstance(settings, LayeredSettings):
        return settings
    project, environment, cmdline = settings.layers()
    return build_settings(project, cmdline, environment)


def build_settings(
    project: Mapping[str, Any] | None = None,
    cmdline: Mapping[str, Any] | None = None,
    environment: Mapping[str, Any] | None = None,
) -> Settings:
    """Scrapy settings with their priorities: defaults < project (module, then config file) <
    environment (``FRESHNESS_*`` variables) < command line (``-s NAME=VALUE``).

    The environment is given, never read here: a crawler process is handed its parent's
    settings, environment included, and must not read its own over them."""
    # Imported here: a coordinating process reads its settings without loading Scrapy.
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("spiders.settings", priority="project")
    for name, value in (project or {}).items():
        settings.set(name, value, priority="project")
    for name, value in (environment or {}).items():
        settings.set(name, value, priority=PRIORITIES["environment"])
    for name, value in (cmdline or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


def open_store(settings: Any) -> Store:
    """The store named by ``FRESHNESS_DB``, migrated if it is behind (a store at head opens
    without loading Alembic, so crawlers of an already migrated store never do)."""
    from storage.db import Store  # not at import: crawler processes read targets, not stores

    return Store(database_url(settings))


def database_url(settings: Any) -> str:
    """``FRESHNESS_DB``; the table's default when it is empty (``--db ""``, ``db = ""``)."""
    import spiders.settings as table

    return settings.get("FRESHNESS_DB") or table.FRESHNESS_DB


def targets_by_organisation(targets: Iterable[dict[str, Any]]) -> Counter[str]:
    """How many of ``targets`` each organisation has (canaries, which have none, left out)."""
    return Counter(target["org_id"] for target in targets if target.get("org_id"))
