"""The Describe tab: a failure, or why a runnable job waits, in plain words on top, then the job's describe as a
tree of JSON that folds."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

OPEN_UP_TO = 12  # containers with more children than this start folded


def failure_words(description: Mapping[str, Any]) -> str | None:
    """A failed job's reason, message and `failureFrom` chain in plain words; None when it did not fail."""
    if description.get("state") != "failed":
        return None
    words = f"{description.get('id')} failed: {description.get('failureReason') or 'unknown reason'}"
    if description.get("failureMessage"):
        words += f": {description['failureMessage']}"
    cause = description.get("failureFrom")
    if isinstance(cause, Mapping) and cause.get("id") and cause.get("id") != description.get("id"):
        words += f"\ncaused by {cause['id']} ({cause.get('name') or '?'})"
    return words


def waiting_words(description: Mapping[str, Any]) -> str | None:
    """Why a runnable job has not started, as the engine's scheduler says (`runnerWaiting`); None otherwise."""
    waiting = description.get("runnerWaiting")
    if description.get("state") != "runnable" or not isinstance(waiting, str) or not waiting:
        return None
    return f"{description.get('id')} waits to start: {waiting}"


def add_json(node: TreeNode[Any], key: str, value: Any) -> None:
    """Add `value` under `node` as `key`: objects and arrays fold, scalars read as JSON."""
    if isinstance(value, (Mapping, list)) and not value:
        node.add_leaf(Text.assemble((key, "bold"), ": {}" if isinstance(value, Mapping) else ": []"))
    elif isinstance(value, Mapping):
        child = node.add(Text.assemble((key, "bold"), f" {{{len(value)}}}"), expand=len(value) <= OPEN_UP_TO)
        for name, item in value.items():
            add_json(child, str(name), item)
    elif isinstance(value, list):
        child = node.add(Text.assemble((key, "bold"), f" [{len(value)}]"), expand=len(value) <= OPEN_UP_TO)
        for index, item in enumerate(value):
            add_json(child, str(index), item)
    else:
        node.add_leaf(Text.assemble((key, "bold"), ": ", (json.dumps(value, default=str), _scalar_style(value))))


def _scalar_style(value: Any) -> str:
    if isinstance(value, str):
        return "green"
    if value is None or isinstance(value, bool):
        return "italic magenta"
    return "cyan"


def tree_text(node: TreeNode[None], depth: int = 0) -> list[str]:
    """Every line of a JSON tree as plain text, folded or not, indented by depth (for copying and tests)."""
    lines = [] if node.is_root else ["  " * depth + str(node.label)]
    for child in node.children:
        lines.extend(tree_text(child, depth + (not node.is_root)))
    return lines


class DescribePane(Vertical):
    """What describe says of the selected job; Enter or a click folds an object."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: Mapping[str, Any] | str | None = None

    def compose(self) -> ComposeResult:
        """The plain-words line and the JSON tree."""
        yield Static("Select a job.", id="describe-words")
        tree: Tree[None] = Tree("describe", id="describe-tree")
        tree.show_root = False
        yield tree

    def start(self, job: str | None) -> None:
        """Start over with another job, its describe not read yet."""
        words = self.query_one("#describe-words", Static)
        words.update("Loading..." if job else "Select a job.")
        words.display = True
        self._shown = None
        self.query_one("#describe-tree", Tree).clear()

    def show(self, description: Mapping[str, Any] | str) -> None:
        """The describe (or why it could not be read); the same describe again keeps what was folded."""
        if description == self._shown:
            return
        self._shown = description
        words_view = self.query_one("#describe-words", Static)
        tree: Tree[None] = self.query_one("#describe-tree", Tree)
        tree.clear()
        if isinstance(description, str):
            words_view.update(Text(description, style="red"))
            words_view.display = True
            return
        failed, waiting = failure_words(description), waiting_words(description)
        words_view.update(Text(failed, style="bold red") if failed else Text(waiting or "", style="bold cyan"))
        words_view.display = bool(failed or waiting)
        for key, value in description.items():
            add_json(tree.root, str(key), value)

    def text(self) -> str:
        """What the tab says, as plain text: the words, then the JSON tree's lines."""
        words = str(self.query_one("#describe-words", Static).content)
        return "\n".join([words, *tree_text(self.query_one("#describe-tree", Tree).root)])
