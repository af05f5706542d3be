"""The job tree: one node per job, roots newest first; labels change in place, structure in batches.

With the host's capacity (read once from the engine in a worker, `/runner/host`), rows mark instance types capped
to the host and runnable jobs say why they wait: the scheduler's words (the events' `runnerWaiting`), else what
they need of the room the running jobs leave.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.text import Text
from textual import work
from textual.strip import Strip
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from runner.client.api import EngineClient
from runner.errors import RunnerError
from runner.tui._look import job_label
from runner.tui.capacity import Capacity, free_room
from runner.tui.model import JobsModel, JobView

RootFilter = Callable[[list[JobView]], bool]


class JobTree(Tree[str]):
    """The jobs of a `JobsModel` as a Textual Tree whose node data is the job's ID."""

    def __init__(self, model: JobsModel, client: EngineClient | None = None, **kwargs: object) -> None:
        super().__init__("jobs", **kwargs)  # type: ignore[arg-type]
        self.model, self.client = model, client
        self.show_root = False
        self.guide_depth = 2
        self.nodes: dict[str, TreeNode[str]] = {}
        self.keep: RootFilter = lambda tree: True
        self.host: Capacity | None = None
        self.free: Capacity | None = None
        self.stale: set[str] = set()  # runnable rows whose "needs" text the free room changed: relabelled when drawn

    def on_mount(self) -> None:
        """Ask the engine for the host's capacity."""
        if self.client is not None:
            self.read_host()

    @work(thread=True, exclusive=True, group="host")
    def read_host(self) -> None:
        """`/runner/host` in a worker; an engine that cannot say leaves the rows without capacity marks."""
        assert self.client is not None
        try:
            host = Capacity.of_answer(self.client.call("/runner/host", {}))
        except (RunnerError, ValueError) as exc:
            self.app.call_from_thread(self.notify, f"the host's capacity is unknown: {exc}", severity="warning")
            return
        self.app.call_from_thread(self.set_host, host)

    def set_host(self, host: Capacity | None) -> None:
        """Take the host's capacity and relabel every row with it."""
        self.host = host
        self.free = None
        self.relabel(self.nodes)

    @property
    def selected_job(self) -> str | None:
        """The ID of the job under the cursor."""
        node = self.cursor_node
        return node.data if node is not None and node.data else None

    def show_new(self, job_ids: Iterable[str]) -> None:
        """Add rows for jobs just created (a filtered-out tree stays hidden); one batch for all of them."""
        selected = self.selected_job
        with self.app.batch_update():
            # Parents before their children (a subjob may carry its parent's very millisecond), siblings in order.
            for job_id in sorted(job_ids, key=self._arrival):
                self._add(self.model.jobs[job_id])
        self.keep_cursor_on(selected)

    def _arrival(self, job_id: str) -> tuple[int, int, int]:
        job, depth = self.model.jobs[job_id], 0
        parent = self.model.jobs.get(job.parent) if job.parent else None
        place = parent.children.index(job_id) if parent is not None and job_id in parent.children else 0
        while parent is not None:
            depth += 1
            parent = self.model.jobs.get(parent.parent) if parent.parent else None
        return depth, place, job.created  # siblings in the order the engine made them

    def keep_cursor_on(self, job: str | None) -> None:
        """Put the cursor on `job`'s row now (after a rebuild, or to select a new tree)."""
        node = self.nodes.get(job) if job is not None else None
        if node is not None and self.cursor_node is not node:
            # Lay the rows out first: a node's line is stale until then. A restore deferred to after the
            # refresh instead would undo a cursor move made in between (a key, or a test's selection).
            _ = self.last_line
            same_line = self.cursor_line == node._line
            self.move_cursor(node)
            if same_line:  # the cursor went to this line before it had a row: Textual announces no highlight
                self.post_message(self.NodeHighlighted(node))

    def settle_cursor(self) -> None:
        """Put the cursor on the first row when it is on none, as on a line that had no row when `↓` moved it."""
        if self.nodes and (self.cursor_line < 0 or self.cursor_node is None):
            first = self.get_node_at_line(0)
            self.keep_cursor_on(first.data if first is not None else None)

    def _add(self, job: JobView) -> None:
        if job.id in self.nodes:
            return
        now = self.model.clock()
        if job.parent is None or job.parent not in self.model.jobs:
            if not self.keep(self.model.tree_of(job.id)):
                return
            self.nodes[job.id] = self.root.add(self._label(job, now), job.id, before=0, expand=True,
                                               allow_expand=False)
            return
        parent = self.nodes.get(job.parent)
        if parent is None:
            return
        parent.allow_expand = True
        parent.expand()
        parent.set_label(self._label(self.model.jobs[job.parent], now))
        self.nodes[job.id] = parent.add(self._label(job, now), job.id, expand=True, allow_expand=False)

    def _label(self, job: JobView, now: int) -> Text:
        # A root without subjobs has no fold mark: indent it as if it had one, so the columns line up.
        # The engine's reason, when it sends one, says more than what the free room tells us.
        label = job_label(job, now, self.host, None if job.engine_waiting else self.free)
        return Text("  ") + label if job.parent is None and not job.children else label

    def _room_changed(self) -> bool:
        """Work out the free room again; whether it changed (every runnable row's "needs" text then does)."""
        if self.host is None:
            return False
        free = free_room(self.host, ((j.state, j.resources) for j in self.model.jobs.values()))
        changed, self.free = free != self.free, free
        return changed

    def relabel(self, job_ids: Iterable[str]) -> None:
        """Change the rows of these jobs in place (and the runnable ones' when the free room changed)."""
        now = self.model.clock()
        wanted = set(job_ids)
        if self._room_changed():  # thousands of runnable rows may say so, a screenful is seen: see render_line
            self.stale |= {j.id for j in self.model.jobs.values() if j.state == "runnable"}
            self.refresh()
        self.stale -= wanted
        for job_id in wanted:
            node = self.nodes.get(job_id)
            if node is not None:
                node.set_label(self._label(self.model.jobs[job_id], now))

    def render_line(self, y: int) -> Strip:
        """A row on screen, relabelled first when the free room changed since its label was made."""
        node = self.get_node_at_line(y + self.scroll_offset.y)
        if node is not None and node.data in self.stale:
            self.stale.discard(node.data)
            node.set_label(self._label(self.model.jobs[node.data], self.model.clock()))
        return super().render_line(y)

    def relabel_running(self) -> None:
        """Refresh the rows whose clock runs (elapsed and time left)."""
        self.relabel(j.id for j in self.model.jobs.values() if j.started is not None and j.ended is None)

    def rebuild(self, keep: RootFilter) -> None:
        """Show only the trees `keep` accepts, in tree order; the cursor stays on its job when it is shown."""
        selected = self.selected_job
        self.keep = keep
        with self.app.batch_update():
            self.clear()
            self.nodes.clear()
            for root in reversed(self.model.roots):
                tree = self.model.tree_of(root)
                if keep(tree):
                    for job in tree:
                        self._add(job)
        self.keep_cursor_on(selected)
