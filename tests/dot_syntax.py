"""A strict reader of the DOT text ``autograd.viz`` writes, for tests that feed it hostile
strings: every line must be one statement of the few kinds the drawing makes, every attribute
one the drawing sets, every HTML-like label well-formed XML of the four tags it uses. A string
that escaped its label would add a statement, an attribute or a tag, and fail here."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

NODE_ID = r"(?:v\d+(?:op)?|g\d+)"
STATEMENT = re.compile(
    rf"^(?P<indent>\t*)(?:(?P<open>digraph \{{|subgraph cluster_\d+ \{{)|(?P<close>\}})"
    rf"|(?P<default>graph|node|edge)(?P<dattrs> \[.*\])"
    rf"|(?P<edge>{NODE_ID} -> {NODE_ID})(?P<eattrs> \[.*\])?"
    rf"|(?P<node>{NODE_ID})(?P<nattrs> \[.*\])?)$")
KEYS = {"label", "shape", "style", "fillcolor", "color", "penwidth", "fontsize", "height",
        "margin", "fontname", "rankdir", "bgcolor", "nodesep", "ranksep", "splines",
        "outputorder", "labelloc", "fontcolor", "arrowsize"}
TAGS = {"B": set(), "BR": set(), "I": set(), "FONT": {"FACE", "COLOR"}}


@dataclass
class Statement:
    kind: str  # "open", "close", "default", "edge" or "node"
    text: str
    attrs: dict[str, str] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)  # the text of HTML-like labels


def _attributes(text: str) -> tuple[dict[str, str], list[str]]:
    """Parse `` [k="v" k=<html> ...]`` strictly; return the attributes and the labels' text."""
    assert text.startswith(" [") and text.endswith("]"), text
    body, i = text[2:-1], 0
    attrs: dict[str, str] = {}
    labels: list[str] = []
    while i < len(body):
        m = re.compile(r"([a-z]+)=").match(body, i)
        assert m, f"expected key= at {body[i:i + 40]!r}"
        key = m.group(1)
        assert key in KEYS and key not in attrs, f"attribute {key!r}"
        i = m.end()
        if body[i] == '"':
            j = i + 1
            while body[j] != '"':
                j += 2 if body[j] == "\\" else 1
            attrs[key] = body[i + 1:j]
            i = j + 1
        else:
            assert body[i] == "<", f"value of {key} is neither quoted nor <html>"
            depth, j = 0, i
            while True:
                depth += {"<": 1, ">": -1}.get(body[j], 0)
                j += 1
                if depth == 0:
                    break
            html = body[i + 1:j - 1]
            attrs[key] = html
            labels.append(_label_text(html))
            i = j
        if i < len(body):
            assert body[i] == " ", f"junk after {key}: {body[i:i + 40]!r}"
            i += 1
    return attrs, labels


def _label_text(html: str) -> str:
    """The text of an HTML-like label, which must be XML of the drawing's own tags only."""
    root = ET.fromstring(f"<L>{html}</L>")
    for el in root.iter():
        if el is root:
            continue
        assert el.tag in TAGS and set(el.attrib) <= TAGS[el.tag], f"tag {el.tag} {el.attrib}"
    # dot reads a doubled backslash in a label as one: the text as the drawing shows it.
    return "".join(root.itertext()).replace("\\\\", "\\")


def parse(dot: str) -> list[Statement]:
    """Every statement of ``dot``, or an AssertionError saying where it is not the drawing's."""
    assert dot.startswith("digraph {\n") and dot.endswith("}\n")
    out = []
    depth = 0
    for line in dot[:-1].split("\n"):
        m = STATEMENT.match(line)
        assert m, f"not a statement of the drawing: {line[:200]!r}"
        kind = next(k for k in ("open", "close", "default", "edge", "node") if m.group(k))
        attrs_text = m.group("dattrs") or m.group("eattrs") or m.group("nattrs")
        attrs, labels = _attributes(attrs_text) if attrs_text else ({}, [])
        depth += {"open": 1, "close": -1}.get(kind, 0)
        assert depth >= 0
        out.append(Statement(kind, line, attrs, labels))
    assert depth == 0
    return out
