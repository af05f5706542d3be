"""The Input/Output tab: the job's input and output, data objects by name; a file can be previewed or saved.

Links are described through the client in a worker, and their rows relabelled in place when the answer comes.
Job-based references read `job-x:field`. The preview reads at most `PREVIEW_BYTES` of the file.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from runner.client.api import EngineClient
from runner.client.files import describe_file, download_file, iter_content
from runner.errors import RunnerError
from runner.tui.screens.file_dialogs import FilePreview, SavePrompt, preview_text
from runner.tui.widgets.describe_pane import add_json

PREVIEW_BYTES = 64 * 1024
PREVIEW_CHUNK = 16 * 1024
OBJECTS_KEPT = 1000


@dataclass(frozen=True, slots=True)
class JobRef:
    """A job-based reference: the `field` of `job`'s output, once it has one."""

    job: str
    field: str


def link_of(value: Any) -> str | JobRef | None:
    """The object ID a `$dnanexus_link` names, or the job-based reference it is; None for any other value."""
    if not isinstance(value, Mapping) or set(value) != {"$dnanexus_link"}:
        return None
    target = value["$dnanexus_link"]
    if isinstance(target, str):
        return target
    if isinstance(target, Mapping):
        if isinstance(target.get("job"), str) and isinstance(target.get("field"), str):
            return JobRef(target["job"], target["field"])
        if isinstance(target.get("id"), str):
            return str(target["id"])
    return None


def size_words(size: int) -> str:
    """A size as people read it: 512 B, 12 kB, 3.4 MB, 1.2 GB."""
    if size < 1000:
        return f"{size} B"
    for unit, scale in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        if size < scale * 1000 or unit == "GB":
            value = size / scale
            return f"{value:.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}"
    return f"{size} B"


def object_words(object_id: str, described: Mapping[str, Any] | str | None) -> str:
    """`name (file-xxxx, 12 kB)` once described, `file-xxxx (describing...)` before, the error after one."""
    if described is None:
        return f"{object_id} (describing...)"
    if isinstance(described, str):
        return f"{object_id} ({described})"
    size = described.get("size")
    details = f"{object_id}, {size_words(size)}" if isinstance(size, int) else object_id
    return f"{described.get('name') or '?'} ({details})"


class IoPane(Vertical):
    """The job's input and output as a tree; on a file's row, p previews it and S saves it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "preview", "Preview file"),
        Binding("S", "save", "Save file"),
    ]

    def __init__(self, client: EngineClient | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = client
        self.job: str | None = None
        self.input: Mapping[str, Any] | None = None
        self.output: Mapping[str, Any] | None = None
        self.objects: dict[str, Mapping[str, Any] | str] = {}
        self._rows: dict[str, list[tuple[TreeNode[str], str]]] = {}
        self._built: tuple[Any, ...] | None = None

    def compose(self) -> ComposeResult:
        """The input and output tree."""
        tree: Tree[str] = Tree("input and output", id="io-tree")
        tree.show_root = False
        yield tree

    def show(self, job: str | None, output: Mapping[str, Any] | None) -> None:
        """Start over with another job: its output as far as the events tell, its input once described."""
        self.job, self.input, self.output = job, None, output
        self._build()

    def described(self, description: Mapping[str, Any]) -> None:
        """The job's describe came: its input, and its output when it has one."""
        given = description.get("input")
        self.input = given if isinstance(given, Mapping) else {}
        output = description.get("output")
        if isinstance(output, Mapping):
            self.output = output
        self._build()

    def output_set(self, output: Mapping[str, Any]) -> None:
        """A job.output event of the shown job."""
        self.output = output
        self._build()

    def _build(self) -> None:
        shown = (self.job, self.input, self.output)
        if shown == self._built:
            return  # the same again (describe is read again whenever the job's row changes): keep the cursor
        self._built = shown
        tree: Tree[str] = self.query_one("#io-tree", Tree)
        tree.clear()
        self._rows.clear()
        if self.job is None:
            tree.root.add_leaf("Select a job.")
            return
        unknown_input = "(describing...)" if self.client is not None else "(no engine to describe the job)"
        for title, values, missing in (("input", self.input, unknown_input), ("output", self.output, "(none yet)")):
            section = tree.root.add(Text(title, style="bold underline"), expand=True)
            if values is None or not values:
                section.add_leaf(Text(missing if values is None else "(none)", style="italic"))
                continue
            for key, value in values.items():
                self._add(section, str(key), value)
        unknown = [object_id for object_id in self._rows if object_id not in self.objects]
        if unknown and self.client is None:
            for object_id in unknown:
                self._got_object(object_id, "no engine to describe it")
        elif unknown:
            self.describe_objects(unknown)

    def _add(self, node: TreeNode[str], key: str, value: Any) -> None:
        link = link_of(value)
        if isinstance(link, JobRef):
            node.add_leaf(Text.assemble((key, "bold"), f": {link.job}:{link.field}"))
        elif isinstance(link, str):
            row = node.add_leaf(self._link_label(key, link), data=link)
            self._rows.setdefault(link, []).append((row, key))
        elif isinstance(value, list):
            array = node.add(Text.assemble((key, "bold"), f" [{len(value)}]"), expand=True)
            for index, item in enumerate(value):
                self._add(array, str(index), item)
        else:
            add_json(node, key, value)

    def _link_label(self, key: str, object_id: str) -> Text:
        return Text.assemble((key, "bold"), ": ", (object_words(object_id, self.objects.get(object_id)), "green"))

    @work(thread=True, group="io-describe")
    def describe_objects(self, object_ids: list[str]) -> None:
        """Describe the linked objects, for their names and sizes."""
        assert self.client is not None
        for object_id in object_ids:
            try:
                answer: Mapping[str, Any] | str = describe_file(self.client, object_id) if object_id.startswith(
                    "file-") else self.client.call(f"/{object_id}/describe", {})
            except RunnerError as exc:
                answer = f"cannot describe it: {exc}"
            self.app.call_from_thread(self._got_object, object_id, answer)

    def _got_object(self, object_id: str, answer: Mapping[str, Any] | str) -> None:
        if len(self.objects) >= OBJECTS_KEPT:
            self.objects.clear()  # bounded: a long session views many jobs' files; those shown are asked again
        self.objects[object_id] = answer
        for row, key in self._rows.get(object_id, []):
            row.set_label(self._link_label(key, object_id))

    # --- keys

    def _selected_file(self) -> str | None:
        node = self.query_one("#io-tree", Tree).cursor_node
        object_id = node.data if node is not None else None
        if not isinstance(object_id, str) or not object_id.startswith("file-"):
            self.notify("Put the cursor on a file's row first", severity="warning")
            return None
        if self.client is None:
            self.notify("No engine to read the file from", severity="warning")
            return None
        return object_id

    def _name_of(self, file_id: str) -> str:
        described = self.objects.get(file_id)
        name = described.get("name") if isinstance(described, Mapping) else None
        return str(name) if name else file_id

    def action_preview(self) -> None:
        """Show the selected file's first lines."""
        file_id = self._selected_file()
        if file_id is not None:
            self.read_head(file_id)

    @work(thread=True, exclusive=True, group="io-preview")
    def read_head(self, file_id: str) -> None:
        """Read at most PREVIEW_BYTES of the file, then show them."""
        assert self.client is not None
        data = bytearray()
        chunks = cast(Generator[bytes, None, None], iter_content(self.client, file_id, chunk_size=PREVIEW_CHUNK))
        try:
            for chunk in chunks:
                data.extend(chunk)
                if len(data) > PREVIEW_BYTES:
                    break
        except RunnerError as exc:
            self.app.call_from_thread(self.notify, f"preview {file_id}: {exc}", severity="error")
            return
        finally:
            chunks.close()
        title = object_words(file_id, self.objects.get(file_id))
        shown = preview_text(bytes(data[:PREVIEW_BYTES]), truncated=len(data) > PREVIEW_BYTES)
        self.app.call_from_thread(self.app.push_screen, FilePreview(title, shown, len(data) > PREVIEW_BYTES))

    def action_save(self) -> None:
        """Ask for a local path, then save the selected file there."""
        file_id = self._selected_file()
        if file_id is None:
            return
        name = self._name_of(file_id)

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.save(file_id, path)

        self.app.push_screen(SavePrompt(name, Path.cwd() / Path(name).name), chosen)

    @work(thread=True, group="io-save")
    def save(self, file_id: str, path: Path) -> None:
        """Download the file to `path`."""
        assert self.client is not None
        try:
            download_file(self.client, file_id, path)
        except (RunnerError, OSError) as exc:
            self.app.call_from_thread(self.notify, f"save {file_id} to {path}: {exc}", severity="error")
            return
        self.app.call_from_thread(self.notify, f"saved {self._name_of(file_id)} to {path}")
