"""Times each entry point's answer to a mistyped flag and a bad value.

    python scripts/bench_usage_errors.py --rounds 5
    python scripts/bench_usage_errors.py --root /tmp/old_checkout  # before

Runs `python -m graphnet.<entry point> <arguments>` `--rounds` times per
case, one after another, and prints a Markdown table of the median wall
and CPU seconds (the process's user + system time) and the error line of
its stderr. `--root` imports graphnet from another checkout (put first on
PYTHONPATH) to compare with an older version.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

# (entry point, arguments); `IMAGE` is an existing empty file.
_CASES = (
  ('fully_connected_feed', '--max_stpes 5'),
  ('fully_connected_feed', '--batch_size 0'),
  ('mnist_eval', '--run_onec'),
  ('mnist_eval', '--timeout_secs -1'),
  ('predict', '--batch_sise 5'),
  ('predict', '--checkpoint ckpt --batch_size 0 IMAGE'),
  ('export', '--frozen_grpah x.pb'),
  ('export', '--checkpoint ckpt --frozen_graph no_such_dir/x.pb'),
)


def _cpu_seconds():
  usage = resource.getrusage(resource.RUSAGE_CHILDREN)
  return usage.ru_utime + usage.ru_stime


def _time(command, cwd, env):
  """(wall seconds, CPU seconds, the error line of stderr) of one run."""
  cpu, start = _cpu_seconds(), time.perf_counter()
  done = subprocess.run(
    command, cwd=cwd, env=env, capture_output=True, text=True, check=False
  )
  wall = time.perf_counter() - start
  errors = [line for line in done.stderr.splitlines() if 'error' in line]
  return wall, _cpu_seconds() - cpu, (errors or [''])[0]


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--rounds', type=int, default=5)
  parser.add_argument('--root', help='checkout to import graphnet from')
  args = parser.parse_args()
  env = dict(os.environ)
  if args.root:
    env['PYTHONPATH'] = os.path.abspath(args.root)
  print(f'load average {os.getloadavg()[0]:.1f}, {args.rounds} rounds')
  print('| command | wall s | CPU s | error |\n|---|---|---|---|')
  with tempfile.TemporaryDirectory() as cwd:
    open(os.path.join(cwd, 'IMAGE'), 'wb').close()
    for module, flags in _CASES:
      command = [sys.executable, '-m', f'graphnet.{module}', *flags.split()]
      runs = [_time(command, cwd, env) for _ in range(args.rounds)]
      wall = statistics.median(r[0] for r in runs)
      cpu = statistics.median(r[1] for r in runs)
      print(
        f'| `{module} {flags}` | {wall:.2f} | {cpu:.2f} | {runs[-1][2][:70]} |'
      )


if __name__ == '__main__':
  main()
