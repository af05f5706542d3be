"""runner.build.asset without Docker: which changed paths are packed, and the script the container runs."""

from __future__ import annotations

from runner.build.asset import asset_script, packed_paths
from runner.spec.dxasset import Dxasset
from runner.spec.run_spec import ExecDepend


def test_only_added_or_changed_paths_outside_the_workers_own_state_are_packed() -> None:
    changes = [{"Path": p, "Kind": k} for p, k in [
        ("/usr", 0), ("/usr/bin/tree", 1), ("/usr/bin/gone", 2), ("/tmp", 0), ("/tmp/runner-asset/x", 1),
        ("/root/.cache/pip", 1), ("/home/dnanexus/f", 1), ("/var/lib/dpkg/status", 0), ("/var/lib/apt/lists/x", 1),
        ("/var/lib/mine", 1), ("/etc/ld.so.cache", 0), ("/etc/tool.conf", 1), ("/proc/1", 1), ("/run/lock", 1),
        ("/tmpfoo", 1), ("/", 0), ("relative", 1),
    ]]
    assert packed_paths(changes) == ["etc/tool.conf", "tmpfoo", "usr", "usr/bin/tree", "var/lib/mine"]


def test_the_script_installs_copies_and_makes_in_that_order() -> None:
    spec = Dxasset(name="a", title="t", description="d", version="1", distribution="Ubuntu", release="24.04",
                   exec_depends=(ExecDepend("tree"), ExecDepend("bc", version="1.07"), ExecDepend("pysam", "pip")),
                   instance_type=None, makefile="makefile", has_resources=True)
    script = asset_script(spec, ["pysam"])
    steps = [line for line in script.splitlines() if not line.startswith("echo")]
    assert steps.index("apt-get install --yes --no-install-recommends tree bc=1.07") < \
        steps.index("python3 -m pip install --no-cache-dir --no-index --find-links wheels pysam") < \
        steps.index("cp -a src/resources/. /") < steps.index("make -C build -f makefile")
    bare = asset_script(Dxasset(name="a", title="t", description="d", version="1", distribution="Ubuntu",
                                release="24.04", exec_depends=(), instance_type=None, makefile=None,
                                has_resources=False), [])
    assert "apt-get" not in bare and "make" not in bare and "resources" not in bare
