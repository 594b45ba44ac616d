"""The one YAML reader for user text (config files, ``--set`` values, ``-o`` options): bounded in depth and size.

PyYAML composes nested nodes recursively, so a few kilobytes of ``[[[[...`` end in a thousand-line
``RecursionError``; and anchors let ``&a [*b, *b, ...]`` over a few lines stand for millions of items, which
every later step (validation, copying, writing ``config.yaml``) would expand. This loader counts while it
composes: nesting deeper than :data:`MAX_DEPTH`, an alias to the collection that contains it, or a document
whose alias-expanded size exceeds :data:`MAX_NODES` (or :data:`MAX_EXPANSION` times its written size) is
refused with one :class:`YAMLLimitError` line naming the line of the text where it happened. Repeated mapping
keys are refused too (PyYAML silently keeps the last).
"""
from __future__ import annotations

import yaml

from .errors import QBoostTNError

#: Deepest nesting of lists and mappings accepted (a config uses about 5).
MAX_DEPTH = 64
#: Most nodes a document may stand for once its aliases are expanded ...
MAX_NODES = 100_000
#: ... and at most this many times the nodes written out (aliases that multiply).
MAX_EXPANSION = 20


class YAMLInputError(QBoostTNError):
    """YAML text that parses but cannot be taken as it is (the subclasses say why)."""


class YAMLLimitError(YAMLInputError):
    """YAML text that is nested too deeply, refers to itself, or expands far beyond what is written."""


class DuplicateKeyError(YAMLInputError):
    """A mapping that gives one key twice."""


class YAMLValueError(YAMLInputError):
    """A scalar YAML recognises but Python cannot hold (an integer of 5,000 digits, the 13th month)."""


class BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses deep nesting, self-reference, multiplying aliases and repeated keys."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._sizes: dict[int, int] = {}  # id(node) -> expanded node count, for every finished node

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            # PyYAML registers an anchor before composing its children: an alias to a node that is not
            # finished yet points into its own ancestor.
            target = self.anchors.get(event.anchor)
            if target is not None and id(target) not in self._sizes:
                raise YAMLLimitError(f"{_where(event.start_mark)}: alias *{event.anchor[:40]} refers to the "
                                     "collection that contains it (a structure that contains itself)")
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise YAMLLimitError(f"{_where(event.start_mark)}: nested more than {MAX_DEPTH} levels deep")
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        self._count(node)
        return node

    def _count(self, node) -> None:
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = ()
        size = 1 + sum(self._sizes[id(c)] for c in children)
        self._sizes[id(node)] = size
        written = len(self._sizes)
        if size > MAX_NODES or size > MAX_EXPANSION * max(written, 1_000):
            raise YAMLLimitError(f"{_where(node.start_mark)}: the value here expands (through its aliases) to more than "
                                 f"{min(MAX_NODES, MAX_EXPANSION * max(written, 1_000)):,} items from "
                                 f"{written:,} written; repeat fewer aliases")

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *anchor` merges may be overridden by the mapping's own keys
            key = self.construct_object(key_node, deep=deep)
            try:
                repeated = key in seen
            except TypeError:  # an unhashable key: construct_mapping below says so as a YAML error
                break
            if repeated:
                from ._text import shown

                raise DuplicateKeyError(f"line {key_node.start_mark.line + 1}: key {shown(key)} appears twice")
            seen.add(key)
        return super().construct_mapping(node, deep)


def _where(mark) -> str:
    return f"line {mark.line + 1}" if mark is not None else "the text"


def load_yaml(text: str):
    """Parse one YAML document from user text with :class:`BoundedLoader` (see the module docstring).

    Raises
    ------
    YAMLInputError
        :class:`YAMLLimitError`, :class:`DuplicateKeyError` or :class:`YAMLValueError` as described above;
        ``yaml.YAMLError`` for text that is not YAML.
    """
    try:
        return yaml.load(text, Loader=BoundedLoader)
    except QBoostTNError:
        raise
    except (ValueError, OverflowError) as exc:  # from a constructor: int(), date(), ...
        from ._text import cut

        raise YAMLValueError(f"a value cannot be read: {cut(exc, 200)}") from None


__all__ = ["BoundedLoader", "DuplicateKeyError", "MAX_DEPTH", "MAX_EXPANSION", "MAX_NODES", "YAMLInputError",
           "YAMLLimitError", "YAMLValueError", "load_yaml"]
