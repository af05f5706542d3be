"""The limits the API puts on what callers send, and the one check every JSON body passes before its handler.

| limit            | value   | what it bounds                                                                      |
| ---------------- | ------- | ----------------------------------------------------------------------------------- |
| MAX_BODY_BYTES   | 16 MiB  | the body of every JSON (POST) route; part uploads stream under their own limit,     |
|                  |         | `files.MAX_PART_BYTES` (5 GiB)                                                      |
| MAX_JSON_DEPTH   | 64      | nesting of arrays and objects, anywhere in a body                                   |
| MAX_NAME_CHARS   | 1024    | `name`, `function`, each item of `tags` and `types` (property names: 100 bytes and  |
|                  |         | values 700 bytes, as documented, in `checks`)                                       |
| MAX_PATH_CHARS   | 4096    | `folder`, `destination`, each item of `folders`, `scope.folder`                     |
| MAX_LIST_ITEMS   | 10000   | the arrays `tags`, `types`, `objects`, `folders`, `dependsOn`, `allowSSH`, `id`     |
| strings          | UTF-8   | no lone UTF-16 surrogate (JSON `"\\ud800"`) in any key or value: neither UTF-8 nor |
|                  |         | SQLite can store one                                                                |

A body over a limit is answered 413 (size) or 422 InvalidInput naming the field, never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.errors import InvalidInput

MAX_BODY_BYTES = 16 << 20
MAX_JSON_DEPTH = 64
MAX_NAME_CHARS = 1024
MAX_PATH_CHARS = 4096
MAX_LIST_ITEMS = 10000

NAME_KEYS = ("name", "function")
NAME_LIST_KEYS = ("tags", "types")
PATH_KEYS = ("folder", "destination")
PATH_LIST_KEYS = ("folders",)
COUNTED_KEYS = ("tags", "types", "objects", "folders", "dependsOn", "allowSSH", "id")


def _field(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _storable(text: str, where: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{where or 'the input'} holds a lone UTF-16 surrogate, which cannot be stored: send "
                           "valid Unicode", {"field": where, "expected": "valid Unicode text"}) from None


def check_shape(body: Any) -> None:
    """InvalidInput, naming the field, for nesting deeper than MAX_JSON_DEPTH or a string that cannot be stored."""
    stack: list[tuple[Any, str, int]] = [(body, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            _storable(value, path)
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth >= MAX_JSON_DEPTH:
            raise InvalidInput(f"{path or 'the input'} is nested more than {MAX_JSON_DEPTH} levels deep",
                               {"field": path, "expected": f"at most {MAX_JSON_DEPTH} levels of arrays and objects"})
        if isinstance(value, dict):
            for key, item in value.items():
                _storable(key, _field(path, key))
                stack.append((item, _field(path, key), depth + 1))
        else:
            stack.extend((item, _field(path, index), depth + 1) for index, item in enumerate(value))


def _bounded(value: Any, where: str, limit: int, what: str) -> None:
    if isinstance(value, str) and len(value) > limit:
        raise InvalidInput(f"{where} is {len(value)} characters long: {what} may have at most {limit}",
                           {"field": where, "expected": f"at most {limit} characters"})


def check_sizes(body: Mapping[str, Any]) -> None:
    """InvalidInput, naming the field, for a name, path or array of the body over its limit."""
    for key in NAME_KEYS:
        _bounded(body.get(key), key, MAX_NAME_CHARS, "a name")
    for key in PATH_KEYS:
        _bounded(body.get(key), key, MAX_PATH_CHARS, "a folder path")
    scope = body.get("scope")
    if isinstance(scope, Mapping):
        _bounded(scope.get("folder"), "scope.folder", MAX_PATH_CHARS, "a folder path")
    for key in COUNTED_KEYS:
        items = body.get(key)
        if isinstance(items, list) and len(items) > MAX_LIST_ITEMS:
            raise InvalidInput(f"{key} has {len(items)} items: at most {MAX_LIST_ITEMS} are accepted",
                               {"field": key, "expected": f"at most {MAX_LIST_ITEMS} items"})
    for keys, limit, what in ((NAME_LIST_KEYS, MAX_NAME_CHARS, "a tag or type"),
                              (PATH_LIST_KEYS, MAX_PATH_CHARS, "a folder path")):
        for key in keys:
            items = body.get(key)
            for index, item in enumerate(items if isinstance(items, list) else []):
                _bounded(item, f"{key}[{index}]", limit, what)


def check_body(body: Mapping[str, Any]) -> None:
    """Every limit of the table above that a parsed JSON body can break."""
    check_shape(body)
    check_sizes(body)
