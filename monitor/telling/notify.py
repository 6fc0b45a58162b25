"""Send digests through Apprise. The only module that imports apprise.

Targets are written as Apprise URLs, optionally routed by tags:

- ``URL`` — a plain Apprise URL receives the whole digest;
- ``TAG=URL`` or ``TAG1,TAG2=URL`` — the target receives only the findings whose kind
  matches a tag. A tag is a finding kind (``dead_link``, ``new_group``…) or the name of a
  route, a named group of kinds (see ``DEFAULT_ROUTES``);
- a path to an Apprise configuration file (TEXT or YAML); the tags written there route the
  same way.

Several targets may share one ``--notify`` value or ``FRESHNESS_NOTIFY``, separated by
whitespace (URLs never contain raw whitespace, while commas are common inside them)::

    FRESHNESS_NOTIFY="curators=mailtos://me:app-pw@example.org chat=discord://id/token"

Email targets (``mailto://``, ``mailtos://``) get the HTML digest, which Apprise sends as
multipart/alternative with a text/plain part. Other services get Markdown (or plain text
when they accept only text), shortened to a summary and as many items as fit when the
service has a body limit.

A URL is never logged or raised unmasked: ``mask()`` uses Apprise's privacy view.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import apprise
from apprise import NotifyFormat, NotifyType

from monitor.telling.digest import Digest
from storage.records import FINDING_KINDS

log = logging.getLogger("freshness.notify")

EMAIL_SCHEMES = frozenset({"mailto", "mailtos"})

# Route names a target can use as a tag, besides the finding kinds themselves.
DEFAULT_ROUTES: Mapping[str, tuple[str, ...]] = {
    "curators": ("dead_link", "moved", "rename", "unverifiable", "revived"),
    "chat": ("new_group", "removed_group", "new_organisation"),
}

# Room left for the title, and for Markdown growing when Apprise converts it for a service.
_MARGIN = 0.9

_SCHEME = r"[A-Za-z][A-Za-z0-9+.\-]*://"
_TAGGED = re.compile(rf"^(?P<tags>[A-Za-z0-9_\-]+(?:,[A-Za-z0-9_\-]+)*)=(?P<url>{_SCHEME}.+)$")
_URL = re.compile(rf"^{_SCHEME}.+$")


class NotifyError(Exception):
    """A notification set-up problem. The message never contains a secret."""


@dataclass(frozen=True)
class Target:
    """Where to send digests. ``tags`` empty means every kind of finding."""

    url: str
    tags: frozenset[str] = frozenset()

    def __repr__(self) -> str:  # the URL may hold a password or token
        return f"Target(url={mask(self.url)!r}, tags={sorted(self.tags)!r})"


# -- parsing ------------------------------------------------------------------------------------


def split_specs(value: str | None) -> list[str]:
    """Split a ``FRESHNESS_NOTIFY`` value into target specs (on whitespace)."""
    return (value or "").split()


def parse_targets(specs: Sequence[str]) -> list[Target]:
    """Targets from ``--notify`` values or ``FRESHNESS_NOTIFY``.

    Each value is a config file path, or one or more whitespace-separated specs, each
    ``URL``, ``TAG=URL`` or ``TAG1,TAG2=URL``. Raises NotifyError for a spec that is not
    understood, naming it only by its position and masked form.

    Example: ``parse_targets(["dead_link,unverifiable=mailto://u:p@example.org"])``
    """
    targets: list[Target] = []
    position = 0
    for value in specs:
        words = [value.strip()] if _is_config_path(value.strip()) else value.split()
        for spec in words:
            position += 1
            targets.extend(_parse_spec(spec, position))
    return targets


def _is_config_path(spec: str) -> bool:
    return bool(spec) and "://" not in spec and Path(spec).expanduser().is_file()


def _parse_spec(spec: str, position: int) -> list[Target]:
    if _is_config_path(spec):
        return _from_config(Path(spec).expanduser())
    if m := _TAGGED.match(spec):
        url, tags = m["url"], _tag_set(m["tags"].split(","))
    elif _URL.match(spec):
        url, tags = spec, frozenset()
    else:
        raise NotifyError(
            f"notification target {position} is neither an Apprise URL (scheme://…), "
            "TAG=URL, nor an existing Apprise config file"
        )
    if apprise.Apprise.instantiate(url) is None:
        raise NotifyError(
            f"notification target {position} is not a URL Apprise understands: {mask(url)}"
        )
    return [Target(url, tags)]


def _from_config(path: Path) -> list[Target]:
    config = apprise.AppriseConfig()
    if not config.add(str(path)):
        raise NotifyError(f"could not read Apprise config file {path}")
    services = config.services()
    if not services:
        raise NotifyError(f"no notification URLs found in Apprise config file {path}")
    return [Target(s.url(privacy=False), _tag_set(s.tags)) for s in services]


def _tag_set(tags: Iterable[Any]) -> frozenset[str]:
    return frozenset(str(t).strip().lower() for t in tags if str(t).strip())


# -- masking ------------------------------------------------------------------------------------


def mask(url: str) -> str:
    """``url`` with its secrets hidden, as Apprise shows it with ``privacy=True``.

    Falls back to ``scheme://***`` when Apprise does not understand the URL.
    """
    plugin = apprise.Apprise.instantiate(url) if isinstance(url, str) else None
    if plugin is not None:
        masked = plugin.url(privacy=True)
        if masked:
            return masked
    scheme = url.split("://", 1)[0] if isinstance(url, str) and "://" in url else ""
    return f"{scheme}://***" if re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*", scheme) else "***"


# -- routing ------------------------------------------------------------------------------------


def kinds_for(target: Target, routes: Mapping[str, Sequence[str]] | None = None) -> frozenset[str]:
    """The finding kinds ``target`` receives: all of them when it has no tags.

    ``routes`` (route name → kinds) replaces ``DEFAULT_ROUTES`` when given. An unknown tag
    raises NotifyError rather than silently dropping the target's findings.
    """
    routes = DEFAULT_ROUTES if routes is None else routes
    if not target.tags:
        return frozenset(FINDING_KINDS)
    kinds: set[str] = set()
    for tag in target.tags:
        if tag in FINDING_KINDS:
            kinds.add(tag)
        elif tag in routes:
            unknown = set(routes[tag]) - set(FINDING_KINDS)
            if unknown:
                raise NotifyError(
                    f"route {tag!r} names unknown finding kinds: {', '.join(sorted(unknown))}"
                )
            kinds.update(routes[tag])
        else:
            raise NotifyError(
                f"unknown tag {tag!r} on {mask(target.url)}: use a finding kind "
                f"({', '.join(FINDING_KINDS)}) or a route ({', '.join(sorted(routes))})"
            )
    return frozenset(kinds)


def digest_for(
    digest: Digest, target: Target, routes: Mapping[str, Sequence[str]] | None = None
) -> Digest:
    """The part of ``digest`` that ``target`` should receive."""
    if not target.tags:
        return digest
    return digest.only_kinds(kinds_for(target, routes))


# -- sending ------------------------------------------------------------------------------------


def deliver(
    digest: Digest,
    targets: Sequence[Target],
    *,
    routes: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, bool]:
    """Send each target its part of ``digest``; return success by masked URL.

    A target whose part is empty is sent nothing and left out of the result. Tags are
    checked for every target before anything is sent, so a typo fails the whole run
    rather than half of it. Two targets that mask alike get " #2", " #3"… appended.
    """
    parts = [(target, digest_for(digest, target, routes)) for target in targets]
    results: dict[str, bool] = {}
    for target, part in parts:
        key = mask(target.url)
        n = 1
        while key in results:
            n += 1
            key = f"{mask(target.url)} #{n}"
        if part.is_empty():
            log.debug("Nothing for %s in this digest; not sending", key)
            continue
        results[key] = deliver_one(part, target)
    return results


def deliver_one(digest: Digest, target: Target) -> bool:
    """Send ``digest`` as it is (no routing) to one target; True when the service took it.

    An empty digest is not sent and counts as delivered. A URL Apprise does not understand
    raises NotifyError; a service that fails or is unreachable returns False.
    """
    masked = mask(target.url)
    if digest.is_empty():
        log.debug("Empty digest; nothing sent to %s", masked)
        return True
    plugin = apprise.Apprise.instantiate(target.url, asset=_asset())
    if plugin is None:
        raise NotifyError(f"not a URL Apprise understands: {masked}")
    body, body_format = body_for(digest, plugin)
    sender = apprise.Apprise(asset=_asset())
    sender.add(plugin)
    answer = _answer(
        sender.notify(
            body=body, title=digest.title, body_format=body_format, notify_type=_type(digest)
        )
    )
    if answer is True:
        log.info("Sent digest (%s) to %s", digest.summary, masked)
        return True
    if answer is None:
        log.warning("Apprise had nothing to send to %s; treating it as not delivered", masked)
    else:
        log.warning("Could not deliver the digest to %s", masked)
    return False


def body_for(digest: Digest, plugin: Any) -> tuple[str, str]:
    """The body and Apprise body format for one service: what ``deliver_one`` sends.

    ``plugin`` is an Apprise plugin instance (or anything with the same attributes).
    """
    if _scheme(plugin) in EMAIL_SCHEMES:
        return digest.html(), NotifyFormat.HTML
    formats = getattr(plugin, "notify_format", NotifyFormat.TEXT)
    if isinstance(formats, str):
        formats = (formats,)
    markdown = not (set(formats) <= {NotifyFormat.TEXT})
    limit = _body_limit(plugin, digest.title)
    if markdown:
        body = digest.shortened_markdown(limit) if limit else digest.markdown()
        return body, NotifyFormat.MARKDOWN
    body = digest.shortened_text(limit) if limit else digest.text()
    return body, NotifyFormat.TEXT


def _scheme(plugin: Any) -> str:
    url = plugin.url(privacy=True) if hasattr(plugin, "url") else ""
    return url.split("://", 1)[0].lower() if "://" in url else ""


def _body_limit(plugin: Any, title: str) -> int | None:
    maxlen = getattr(plugin, "body_maxlen", 0) or 0
    if maxlen <= 0:
        return None
    return max(int((maxlen - len(title) - 2) * _MARGIN), 200)


def _type(digest: Digest) -> str:
    if any(digest.counts.get(k) for k in ("dead_link", "unverifiable", "removed_group")):
        return NotifyType.WARNING
    if digest.counts and set(digest.counts) == {"recovered"}:
        return NotifyType.SUCCESS
    return NotifyType.INFO


def _answer(result: Any) -> bool | None:
    """Apprise's three answers: True (all sent), False (some failed), None (nothing to send).

    Newer Apprise returns a result object; its NOMATCH status is the old None.
    """
    if result is None:
        return None
    status = getattr(result, "status", None)
    if status is not None and getattr(status, "name", "") == "NOMATCH":
        return None
    return bool(result)


def _asset() -> apprise.AppriseAsset:
    return apprise.AppriseAsset(app_id="freshness", app_desc="freshness directory monitor")
