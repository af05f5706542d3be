"""App identifiers, as the reference lists them: app-<hash id>, app-<name> (app-<name>/default),
app-<name>/<version> and app-<name>/<tag>; app-<hash id>/<version or tag> is rejected.

Read the same way by the API's app routes and by `runner app`, which refuses a bad one before any engine starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runner.errors import InvalidInput
from runner.spec.ids import is_id

NAME_PATTERN = re.compile(r"^[a-zA-Z0-9._-]+$")
VERSION_PATTERN = re.compile(r"^[a-zA-Z0-9._+-]+$")
# The tag app-<name> stands for (runner.store.apps keeps the same).
DEFAULT_TAG = "default"


@dataclass(frozen=True, slots=True)
class AppIdentifier:
    """What an identifier names: a version by ID, or a name with a version or tag."""

    app_id: str | None = None
    name: str | None = None
    alias: str = DEFAULT_TAG


def parse_identifier(text: str) -> AppIdentifier:
    """The parts of an app identifier; InvalidInput for what is not one (app-<hash id>/<alias> included)."""
    head, _, alias = text.partition("/")
    if not head.startswith("app-") or head == "app-" or (_ and not alias) or "/" in alias:
        raise InvalidInput(f"{text!r} is not an app identifier: expected app-<hash id>, app-<name>, "
                           "app-<name>/<version> or app-<name>/<tag>", {"field": "app", "expected": "app identifier"})
    if is_id(head, "app"):
        if alias:
            raise InvalidInput(f"{text!r}: an app given by its hash ID cannot name a version or tag as well "
                               "(a hash ID indicates a unique, immutable version which could conflict with the "
                               "given version or tag); use app-<name>/<version> or the ID alone",
                               {"field": "app", "expected": "app-<hash id> without /<version or tag>"})
        return AppIdentifier(app_id=head)
    name = head[len("app-"):]
    if not NAME_PATTERN.match(name):
        raise InvalidInput(f"{text!r}: an app name must match /^[a-zA-Z0-9._-]+$/",
                           {"field": "app", "expected": "/^[a-zA-Z0-9._-]+$/"})
    return AppIdentifier(name=name, alias=alias or DEFAULT_TAG)
