"""The .gitignore matcher, checked against what `git check-ignore` says for the same patterns and paths."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from runner.dev.ignore import GitIgnore, IgnoreTree

PATTERNS = [
    "# a comment", "", "*.log", "!keep.log", "build/", "/top.txt", "docs/**/*.tmp", "cache/**", "**/gen",
    "a?c.txt", "[ab]x.py", "[!c]y.py", "notes", "onlydir/", "\\#hash", "\\!bang", "trailing  ", "lit\\*star", "deep/only.txt",
]
PATHS = [
    ("x.log", False), ("sub/x.log", False), ("keep.log", False), ("build", True), ("build/a/b.sh", False),
    ("src/build/x", False), ("top.txt", False), ("s/top.txt", False), ("docs/z.tmp", False),
    ("docs/x/y/z.tmp", False), ("cache/x", False), ("cache", True), ("src/gen", True), ("gen/x.c", False),
    ("abc.txt", False), ("abbc.txt", False), ("ax.py", False), ("cx.py", False), ("cy.py", False),
    ("dy.py", False), ("#hash", False), ("!bang", False), ("trailing", False), ("lit*star", False),
    ("litXstar", False), ("deep/only.txt", False), ("x/deep/only.txt", False), ("src/code.sh", False),
    ("notes", False), ("x/notes", False), ("onlydir", False), ("x/onlydir/y", False),
]


def test_the_matcher_agrees_with_git_check_ignore(tmp_path: Path) -> None:
    git = shutil.which("git")
    if git is None:
        pytest.fail("git is needed to check the matcher against")
    subprocess.run([git, "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("\n".join(PATTERNS) + "\n")
    for path, is_folder in PATHS:
        target = tmp_path / path
        if is_folder:
            target.mkdir(parents=True, exist_ok=True)
        elif not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("x")
    ours = GitIgnore.read(tmp_path / ".gitignore")
    for path, is_folder in PATHS:
        checked = subprocess.run([git, "-C", str(tmp_path), "check-ignore", "-q", "--no-index", path],
                                 check=False)
        assert ours.ignored(path, is_folder=is_folder) == (checked.returncode == 0), path


def test_no_gitignore_ignores_nothing(tmp_path: Path) -> None:
    assert not GitIgnore.read(tmp_path / ".gitignore").ignored("anything/at/all.sh")


NESTED = {
    ".gitignore": "*.log\nout/\n",
    "src/.gitignore": "!keep.log\n/local.txt\ntmp/\n",
    "src/deep/.gitignore": "*.txt\n!wanted.txt\n",
    "out/.gitignore": "!*\n",
}
NESTED_PATHS = [
    ("a.log", False), ("src/a.log", False), ("src/keep.log", False), ("keep.log", False),
    ("src/local.txt", False), ("src/x/local.txt", False), ("local.txt", False), ("src/tmp", True),
    ("src/tmp/a.sh", False), ("tmp/a.sh", False), ("src/deep/a.txt", False), ("src/deep/wanted.txt", False),
    ("src/deep/more/b.txt", False), ("src/b.txt", False), ("out/x.sh", False), ("src/code.sh", False),
    ("src/deep/keep.log", False),
]


def test_nested_gitignores_agree_with_git_check_ignore(tmp_path: Path) -> None:
    git = shutil.which("git")
    if git is None:
        pytest.fail("git is needed to check the matcher against")
    subprocess.run([git, "init", "-q", str(tmp_path)], check=True)
    for name, text in NESTED.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    for path in (path for path, is_folder in NESTED_PATHS if is_folder):
        (tmp_path / path).mkdir(parents=True, exist_ok=True)
    tree = IgnoreTree(tmp_path)
    for path, is_folder in NESTED_PATHS:
        checked = subprocess.run([git, "-C", str(tmp_path), "check-ignore", "-q", "--no-index", path],
                                 check=False)
        assert tree.ignored(path, is_folder=is_folder) == (checked.returncode == 0), path


def test_a_changed_nested_gitignore_is_read_again_once_forgotten(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / ".gitignore").write_text("*.tmp\n")
    tree = IgnoreTree(tmp_path)
    assert tree.ignored("src/a.tmp") and not tree.ignored("src/a.sh")
    (tmp_path / "src" / ".gitignore").write_text("*.sh\n")
    tree.forget("src/.gitignore")
    assert tree.ignored("src/a.sh") and not tree.ignored("src/a.tmp")
