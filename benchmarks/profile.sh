#!/usr/bin/env bash
# The profiles behind benchmarks/PROFILE.md, to repeat them: bash benchmarks/profile.sh [OUT_DIR]
# Needs py-spy (pip install py-spy) and the job images (runner images prepare). Uses a private engine in a
# temporary $RUNNER_HOME; writes its reports to OUT_DIR (default: a temporary folder, printed at the end).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$(mktemp -d -t runner-profile-XXXXXX)}
mkdir -p "$out"
export RUNNER_HOME=$(mktemp -d -t runner-profile-home-XXXXXX)
python3 -m compileall -q "$(python3 -c 'import runner, os; print(os.path.dirname(runner.__file__))')" >/dev/null
trap 'runner engine stop >/dev/null 2>&1 || true; rm -rf "$RUNNER_HOME"' EXIT

# 1. What a command imports, and what each import costs (self and cumulative, microseconds).
python3 -X importtime -c "import runner.cli.main" 2>"$out/importtime-main.txt"
python3 -X importtime -c "from runner.cli.main import main; import sys; sys.argv = ['runner', 'find', 'jobs', '--help']
try:
    main()
except SystemExit:
    pass" >/dev/null 2>"$out/importtime-find.txt"
sort -t'|' -k2 -n "$out/importtime-find.txt" | tail -25 >"$out/importtime-find-top.txt"

# 2. A whole command, in process: where its time goes once started (imports, HTTP, waiting on the engine).
runner engine start >/dev/null
applet=$(runner build "$here/applets/trivial")
cat >"$out/cli.py" <<PY
import sys
from runner.cli.main import main
sys.argv = ["runner", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
PY
python3 -m cProfile -s cumtime "$out/cli.py" find jobs >"$out/cprofile-find.txt" 2>&1
python3 -m cProfile -s cumtime "$out/cli.py" run "$applet" --wait >"$out/cprofile-run-wait.txt" 2>&1

# 3. The engine during a fan-out: py-spy samples the daemon (every thread) while 100 subjobs of 0.1 s run.
fan_out=$(runner build "$here/applets/fan_out")
pid=$(python3 -c "import json, os; print(json.load(open(os.path.join(os.environ['RUNNER_HOME'], 'engine.json')))['pid'])")
runner run "$fan_out" -i n=100 -i seconds=0.1 --brief --wait >/dev/null 2>&1 &
waiter=$!
sleep 10
py-spy dump -p "$pid" >"$out/py-spy-dump.txt"
py-spy record -p "$pid" -d 30 -r 50 -f raw -o "$out/py-spy-fanout.txt" --nonblocking || true
wait "$waiter"
python3 - "$out/py-spy-fanout.txt" >"$out/py-spy-fanout-top.txt" <<'PY'
import collections, sys
inclusive = collections.Counter()
for line in open(sys.argv[1]):
    stack, _, count = line.rstrip().rpartition(" ")
    for frame in set(stack.split(";")):
        inclusive[frame] += int(count)
for frame, count in inclusive.most_common(40):
    print(count, frame)
PY

# 4. The engine loop alone, by tree size (in process, no containers), under cProfile.
python3 -m cProfile -s tottime "$here/loop.py" --sizes 500 --wakes 20 >"$out/cprofile-loop-500.txt" 2>&1

echo "profiles in $out"
