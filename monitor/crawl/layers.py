"""A command's settings, layered as Scrapy layers them, without importing Scrapy.

``freshness run`` over several crawler processes (or over Redis workers) coordinates: it reads a
few ``FRESHNESS_`` settings and hands every setting to its crawlers. Importing Scrapy only for
its ``Settings`` class would keep about 45 MB in that process for the whole crawl, since
``scrapy.settings`` cannot be imported without the rest of Scrapy and Twisted.

``LayeredSettings`` holds the same layers as ``monitor.crawl.process.build_settings``:
``spiders.settings``, then the config file's ``[settings]`` (both at Scrapy's "project"
priority), then ``-s NAME=VALUE`` ("cmdline"). Its getters convert values exactly as Scrapy's
do. Scrapy's own defaults are not in it: the coordinator reads none of them. Wherever a crawl
runs in the same process, ``scrapy_settings`` turns it into real Scrapy settings, built from
the same layers.

    >>> settings = LayeredSettings({"FRESHNESS_PROCESSES": "2"}, {"FRESHNESS_ORGS": "a,b"})
    >>> settings.getint("FRESHNESS_PROCESSES"), settings.getlist("FRESHNESS_ORGS")
    (2, ['a', 'b'])
    >>> settings.getpriority("FRESHNESS_ORGS")
    40
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy.settings import Settings

    from storage.db import Store

# Scrapy's numbers for the two layers freshness uses (scrapy.settings.SETTINGS_PRIORITIES).
PRIORITIES = {"project": 20, "cmdline": 40}


def _priority(priority: int | str) -> int:
    if isinstance(priority, str):
        try:
            return PRIORITIES[priority]
        except KeyError:
            raise ValueError(f"unknown settings priority {priority!r}") from None
    if priority not in PRIORITIES.values():
        raise ValueError(f"settings priority {priority} is neither project (20) nor cmdline (40)")
    return priority


class LayeredSettings:
    """spiders.settings < project (config file) < cmdline, read like Scrapy's ``Settings``."""

    def __init__(
        self, project: Mapping[str, Any] | None = None, cmdline: Mapping[str, Any] | None = None
    ) -> None:
        self._project: dict[str, Any] = dict(project or {})
        self._cmdline: dict[str, Any] = dict(cmdline or {})
        self._module = _module_settings()

    # -- layers -------------------------------------------------------------------------------

    def set(self, name: str, value: Any, priority: int | str = "project") -> None:
        if _priority(priority) == PRIORITIES["cmdline"]:
            self._cmdline[name] = value
        elif name not in self._cmdline:
            self._project[name] = value

    def copy(self) -> LayeredSettings:
        return copy.deepcopy(self)

    def layers(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The project layer (config file, above spiders.settings) and the command line."""
        return dict(self._project), dict(self._cmdline)

    # -- reading, with Scrapy's conversions ----------------------------------------------------

    def __contains__(self, name: object) -> bool:
        return name in self._cmdline or name in self._project or name in self._module

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def get(self, name: str, default: Any = None) -> Any:
        for layer in (self._cmdline, self._project, self._module):
            if name in layer:
                return layer[name]
        return default

    def getpriority(self, name: str) -> int | None:
        if name in self._cmdline:
            return PRIORITIES["cmdline"]
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
        return {**self._module, **self._project, **self._cmdline}


def _module_settings() -> dict[str, Any]:
    import spiders.settings as module

    # As Scrapy's Settings.setmodule reads a module: every upper-case name.
    return {name: getattr(module, name) for name in dir(module) if name.isupper()}


def scrapy_settings(settings: Any) -> Any:
    """Real Scrapy settings for a crawl in this process: ``settings`` itself when it is one
    already, otherwise built from the same layers (Scrapy imported here, not before)."""
    if not isinstance(settings, LayeredSettings):
        return settings
    project, cmdline = settings.layers()
    return build_settings(project, cmdline)


def build_settings(
    project: Mapping[str, Any] | None = None, cmdline: Mapping[str, Any] | None = None
) -> Settings:
    """Scrapy settings with their priorities: defaults < project (module, then config file) <
    command line (``-s NAME=VALUE``)."""
    # Imported here: a coordinating process reads its settings without loading Scrapy.
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("spiders.settings", priority="project")
    for name, value in (project or {}).items():
        settings.set(name, value, priority="project")
    for name, value in (cmdline or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


def open_store(settings: Any) -> Store:
    """The store named by ``FRESHNESS_DB``, migrated if it is behind (a store at head opens
    without loading Alembic, so crawlers of an already migrated store never do)."""
    from storage.db import Store  # not at import: crawler processes read targets, not stores

    return Store(settings.get("FRESHNESS_DB") or "sqlite:///freshness.db")


def targets_by_organisation(targets: Iterable[dict[str, Any]]) -> Counter[str]:
    """How many of ``targets`` each organisation has (canaries, which have none, left out)."""
    return Counter(target["org_id"] for target in targets if target.get("org_id"))
