"""The directory as YAML: reading it safely, and writing it back in the documented layout.

Reading never constructs arbitrary YAML objects: the file is walked as a stream of parser
events, so ``!!python/...`` tags are reported, not executed, and aliases or nesting cannot blow
up memory or the stack.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import yaml

from monitor.directory.keys import KEYS, LIST_KEYS, MAX_DEPTH, TOP_LEVEL_KEY, entry_fields
from monitor.directory.problems import Problems, suggest
from monitor.directory.raw import RawEntry, Value
from monitor.judging.intervals import show
from storage.records import DirectoryEntry

_YAML_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(
    _YAML_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp")
)
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
# C0 controls other than tab and line breaks: YAML refuses them and no curator types them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


HEADER = """\
# freshness directory: the organisations we keep an eye on, one entry each.
# Keys: id, name, aliases (former names), url, profession, groups_url, group_selector, groups,
# links, check_every (like 12h, 1d or 2w), status (only "dead"), dead_since (a date) and
# dead_links (a groups_url or link accepted as dead, as "URL since DATE").
# Keep each id as it is: history is attached to it, even when the name changes.
"""


# -- reading ------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Node:
    """A YAML node built from parser events: just what the directory needs, with its line."""

    kind: str  # "scalar", "seq" or "map"
    line: int
    tag: str | None = None
    text: str = ""
    plain: bool = False
    null: bool = False
    items: list[_Node] = field(default_factory=list)
    pairs: list[tuple[_Node, _Node]] = field(default_factory=list)

    def describe(self) -> str:
        if self.kind == "map":
            return "a mapping"
        if self.kind == "seq":
            return "a list"
        return f"text {show(self.text)}"


def read_yaml(text: str, problems: Problems) -> list[RawEntry]:
    if match := _CONTROL.search(text):
        line = text.count("\n", 0, match.start()) + 1
        problems.add(
            line, None, f"contains a control character (U+{ord(match.group()):04X}); is it text?"
        )
        return []
    root = _yaml_tree(text, problems)
    if root is None:
        return []
    if root.kind == "scalar" and root.null:
        problems.add(None, None, f"is empty; expected '{TOP_LEVEL_KEY}:' and a list of entries")
        return []
    if not _check_tag(root, None, problems):
        return []
    if root.kind == "seq":
        entries = root
    elif root.kind == "map":
        found = _top_level(root, problems)
        if found is None:
            return []
        entries = found
    else:
        problems.add(
            root.line,
            None,
            f"expected '{TOP_LEVEL_KEY}:' and a list of entries, found {root.describe()}",
        )
        return []
    raws = []
    for item in entries.items:
        if item.kind != "map":
            if item.kind == "scalar" and item.null:
                problems.add(item.line, None, "empty entry (a '-' with nothing after it)")
            else:
                problems.add(
                    item.line,
                    None,
                    f"each entry must be a mapping of keys (name:, url:, ...), "
                    f"found {item.describe()}",
                )
            continue
        if _check_tag(item, None, problems):
            raws.append(_yaml_entry(item, problems))
    return raws


def _top_level(root: _Node, problems: Problems) -> _Node | None:
    entries: _Node | None = None
    seen = False
    for key, value in root.pairs:
        name = key.text if key.kind == "scalar" else None
        if name != TOP_LEVEL_KEY:
            problems.add(
                key.line,
                name,
                f"unknown key at the top level; the file holds one key, '{TOP_LEVEL_KEY}'"
                + (suggest(name, [TOP_LEVEL_KEY], list_known=False) if name else ""),
            )
            continue
        if seen:
            problems.add(key.line, TOP_LEVEL_KEY, "given twice")
            continue
        seen = True
        if value.kind == "seq" and _check_tag(value, TOP_LEVEL_KEY, problems):
            entries = value
        elif value.kind == "scalar" and value.null:
            entries = _Node("seq", value.line)  # "organisations:" with nothing yet
        else:
            problems.add(
                value.line,
                TOP_LEVEL_KEY,
                f"must be a list of entries (each starting with '- '), found {value.describe()}",
            )
    if not seen:
        problems.add(root.line, None, f"has no '{TOP_LEVEL_KEY}:' key holding the list of entries")
    return entries


def _yaml_entry(node: _Node, problems: Problems) -> RawEntry:
    raw = RawEntry(line=node.line)
    for key, value in _entry_pairs(node, problems):
        if key.kind != "scalar" or key.null:
            problems.add(key.line, None, f"a key must be plain text, found {key.describe()}")
            continue
        name = key.text
        if name in raw.values:
            first = raw.values[name].line
            problems.add(key.line, name, f"given twice in one entry (first on line {first})")
            continue
        if name not in KEYS:
            problems.add(key.line, name, "unknown key" + suggest(name, KEYS))
            raw.values[name] = Value(key.line, bad=True)
            continue
        raw.values[name] = _yaml_value(name, key.line, value, problems)
    return raw


def _entry_pairs(node: _Node, problems: Problems) -> list[tuple[_Node, _Node]]:
    """The entry's own keys, then keys merged in with ``<<: *anchor`` that it does not set."""
    own: list[tuple[_Node, _Node]] = []
    merged: list[tuple[_Node, _Node]] = []
    visited = {id(node)}
    pending = [node]
    while pending:
        current = pending.pop(0)
        for key, value in current.pairs:
            if key.kind == "scalar" and key.plain and key.text == "<<":
                sources = value.items if value.kind == "seq" else [value]
                for merged_node in sources:
                    if merged_node.kind != "map":
                        problems.add(key.line, "<<", "can only merge a mapping ('<<: *anchor')")
                    elif id(merged_node) not in visited:
                        # Each mapping is merged once: repeated aliases cannot multiply work.
                        visited.add(id(merged_node))
                        pending.append(merged_node)
            elif current is node:
                own.append((key, value))
            else:
                merged.append((key, value))
    names = {key.text for key, _ in own if key.kind == "scalar"}
    for key, value in merged:
        if key.kind == "scalar" and key.text not in names:
            names.add(key.text)
            own.append((key, value))
    return own


def _yaml_value(key: str, line: int, node: _Node, problems: Problems) -> Value:
    if not _check_tag(node, key, problems):
        return Value(line, bad=True)
    if key in LIST_KEYS:
        if node.kind == "scalar" and node.null:
            return Value(line)
        if node.kind != "seq":
            example = node.text if node.kind == "scalar" else "a, b"
            return _bad(
                problems,
                line,
                key,
                f"must be a list of text, like [{example}]; found {node.describe()}",
            )
        items: list[tuple[str | None, int | None]] = []
        ok = True
        for index, item in enumerate(node.items, start=1):
            if item.kind != "scalar" or not _check_tag(item, key, problems):
                if item.kind != "scalar":
                    problems.add(
                        item.line, key, f"item {index} must be text, found {item.describe()}"
                    )
                ok = False
                continue
            items.append((None if item.null else item.text, item.line))
        return Value(line, items=items) if ok else Value(line, bad=True)
    if node.kind != "scalar":
        return _bad(problems, line, key, f"must be text, found {node.describe()}")
    # Blank text counts as absent, so "name: ''" is reported as a missing name.
    return Value(line, text=None if node.null or not node.text.strip() else node.text)


def _bad(problems: Problems, line: int, key: str, message: str) -> Value:
    problems.add(line, key, message)
    return Value(line, bad=True)


def _check_tag(node: _Node, key: str | None, problems: Problems) -> bool:
    """Only plain YAML is allowed: a tag like ``!!python/object`` is reported, never built."""
    if node.tag is None:
        return True
    allowed = {"scalar": _SCALAR_TAGS, "seq": {_YAML_CORE + "seq"}, "map": {_YAML_CORE + "map"}}
    if node.tag in allowed[node.kind]:
        return True
    shown = (
        "!!" + node.tag.removeprefix(_YAML_CORE) if node.tag.startswith(_YAML_CORE) else node.tag
    )
    problems.add(node.line, key, f"YAML tag {show(shown)} is not allowed; write plain values")
    return False


def _yaml_tree(text: str, problems: Problems) -> _Node | None:
    """Build nodes from the event stream without recursion; None when the YAML is unusable."""
    # libyaml is fast; its composer recurses in C, but we never use it: only its event parser.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    anchors: dict[str, _Node] = {}
    stack: list[tuple[_Node, str | None, list[_Node]]] = []
    root: _Node | None = None
    documents = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            line = event.start_mark.line + 1 if event.start_mark else 1
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    problems.add(line, None, "holds a second YAML document ('---'); keep one")
                    return None
                continue
            if isinstance(event, yaml.ScalarEvent):
                plain = bool(event.implicit[0]) and event.tag is None
                null = (plain and event.value in _NULLS) or event.tag == _YAML_CORE + "null"
                done = _Node("scalar", line, tag=_explicit(event.tag), text=event.value)
                done.plain, done.null = plain, null
                anchor = event.anchor
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    problems.add(line, None, f"alias *{event.anchor} has no anchor before it")
                    return None
                done, anchor = anchors[event.anchor], None
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if len(stack) >= MAX_DEPTH:
                    problems.add(line, None, f"is nested more than {MAX_DEPTH} levels deep")
                    return None
                kind = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
                stack.append((_Node(kind, line, tag=_explicit(event.tag)), event.anchor, []))
                continue
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                done, anchor, children = stack.pop()
                if done.kind == "map":
                    done.pairs = list(zip(children[0::2], children[1::2], strict=True))
                else:
                    done.items = children
            else:
                continue
            # Anchors are registered once complete, so an alias can never point into itself.
            if anchor is not None:
                anchors[anchor] = done
            if stack:
                stack[-1][2].append(done)
            else:
                root = done
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problems.add(mark.line + 1 if mark else None, None, _yaml_message(exc))
        return None
    except yaml.YAMLError as exc:
        problems.add(None, None, f"is not valid YAML: {exc}")
        return None
    if root is None:
        problems.add(None, None, f"is empty; expected '{TOP_LEVEL_KEY}:' and a list of entries")
    return root


def _explicit(tag: str | None) -> str | None:
    # "!" is YAML's "just a string" marker, not a type.
    return None if tag in (None, "!") else tag


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or exc.context or "syntax error"
    message = f"is not valid YAML: {problem}"
    if "mapping values are not allowed" in problem:
        message += " (a value containing ': ' must be in quotes)"
    elif "'\\t'" in problem or "tab" in problem:
        message += " (indent with spaces, not tabs)"
    elif "found character" in problem and "'#'" not in problem:
        message += " (text starting with a special character must be in quotes)"
    return message


# -- writing ------------------------------------------------------------------------------------


def dump_directory(entries: Sequence[DirectoryEntry]) -> str:
    """The entries as directory YAML, keys in the documented order, empty fields left out.

    ``load_directory("x.yaml", text=dump_directory(entries)) == entries`` for any entries the
    loader accepts. Every entry gets its id written out, so a later rename keeps its history.
    """
    if not entries:
        return HEADER + f"{TOP_LEVEL_KEY}: []\n"
    lines = [HEADER.rstrip("\n"), f"{TOP_LEVEL_KEY}:"]
    for number, entry in enumerate(entries):
        if number:
            lines.append("")  # a blank line between entries, for the eye
        for index, (key, value) in enumerate(entry_fields(entry)):
            prefix = "  - " if index == 0 else "    "
            if isinstance(value, tuple):
                flow = f"{prefix}{key}: {_yaml_flow(value)}"
                if len(flow) <= 100:
                    lines.append(flow)
                else:
                    lines.append(f"{prefix}{key}:")
                    lines += [f"      - {_yaml_scalar(item)}" for item in value]
            elif key == "dead_since":
                lines.append(f"{prefix}{key}: {value}")  # ISO date, unquoted as people write it
            else:
                lines.append(f"{prefix}{key}: {_yaml_scalar(value)}")
    return "\n".join(lines) + "\n"


def _yaml_scalar(value: str) -> str:
    # PyYAML decides the quoting; double quotes with escapes keep odd characters on one line.
    printable = value.isprintable()
    text = yaml.safe_dump(
        value, allow_unicode=True, width=2**31 - 1, default_style=None if printable else '"'
    )
    return text.removesuffix("\n...\n").rstrip("\n")


def _yaml_flow(items: tuple[str, ...]) -> str:
    text = yaml.safe_dump(list(items), allow_unicode=True, width=2**31 - 1, default_flow_style=True)
    return text.strip()
