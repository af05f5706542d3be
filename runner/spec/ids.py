"""DNAnexus-style object IDs: `<class>-` followed by 24 characters of [0-9A-Za-z]."""

from __future__ import annotations

import re
import string

ID_ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
ID_LENGTH = 24
ID_PATTERN = re.compile(r"^(?P<klass>[a-z]+)-(?P<body>[0-9A-Za-z]{24})$")
# The classes of containers (which hold data objects in folders): projects, and jobs' workspaces.
CONTAINER_CLASSES = ("project", "container")


def new_id(klass: str) -> str:
    """A fresh random ID of the given class, e.g. `job-...`."""
    import secrets  # here, not at the top: the command line checks IDs and makes none (OpenSSL is ~4 ms a start)

    return f"{klass}-" + "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


def content_id(klass: str, content: bytes) -> str:
    """An ID derived from content: the same bytes always give the same ID."""
    import hashlib  # as secrets above

    number = int.from_bytes(hashlib.sha256(content).digest(), "big")
    chars = []
    for _ in range(ID_LENGTH):
        number, rest = divmod(number, len(ID_ALPHABET))
        chars.append(ID_ALPHABET[rest])
    return f"{klass}-" + "".join(chars)


def id_class(value: str) -> str | None:
    """The class of a well-formed ID (`"job"` for `job-...`), or None when `value` is not an ID."""
    match = ID_PATTERN.match(value)
    return match.group("klass") if match else None


def is_id(value: object, klass: str | None = None) -> bool:
    """Whether `value` is a well-formed ID, optionally of the given class."""
    if not isinstance(value, str):
        return False
    found = id_class(value)
    return found is not None and (klass is None or found == klass)
