r"""Runs graphnet's whole fault-injection suite and prints what it survived.

    python scripts/fault_suite.py            # full: 24 kills, 600 fuzz cases...
    python scripts/fault_suite.py --quick    # the reduced CI sizes

Runs tests/test_faults_*.py under pytest with GRAPHNET_FAULTS_FULL=1 (more
kills, fuzz examples and signal cases than the default CI run); each test
appends its counts to a JSON-lines file named by GRAPHNET_FAULTS_STATS,
summed here into one table for BENCHMARKS.md. Exits with pytest's status.
"""

import argparse
import collections
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (category, numerator key, denominator key, label).
_ROWS = (
  ('kills', 'survived', 'tried', 'SIGKILL + restart: kills survived / tried'),
  ('kills', 'during_save', 'tried', '  of which landed while saving'),
  ('checkpoints', 'documented', 'tried', 'damaged checkpoints refused'),
  ('fuzz', 'documented', 'tried', 'hostile IDX files: documented error'),
  ('fuzz', 'valid', 'tried', '  still-valid mutations read correctly'),
  ('flags', 'rejected', 'tried', 'bad flag values rejected before work'),
  ('filesystem', 'clean', 'tried', 'unusable dirs: clean error, no files'),
  ('signals', 'handled', 'tried', 'SIGINT/SIGTERM: checkpoint + resume'),
  ('divergence', 'ok', 'tried', 'divergence: last good checkpoint kept'),
  ('evaluator', 'evaluated', 'evaluated', 'evaluator beside trainer: evals'),
)


def _summarise(path):
  totals = collections.defaultdict(collections.Counter)
  if os.path.exists(path):
    with open(path) as f:
      for line in f:
        for category, counts in json.loads(line).items():
          totals[category].update(counts)
  return totals


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument(
    '--quick', action='store_true', help='Use the reduced CI sizes.'
  )
  parser.add_argument('pytest_args', nargs='*', help='Extra pytest arguments.')
  args = parser.parse_args()
  with tempfile.TemporaryDirectory() as tmp:
    stats = os.path.join(tmp, 'stats.jsonl')
    env = dict(os.environ, GRAPHNET_FAULTS_STATS=stats)
    if not args.quick:
      env['GRAPHNET_FAULTS_FULL'] = '1'
    files = sorted(glob.glob(os.path.join(_REPO, 'tests', 'test_faults_*.py')))
    start = time.monotonic()
    done = subprocess.run(
      [
        sys.executable,
        '-m',
        'pytest',
        '-q',
        '-p',
        'no:cacheprovider',
        '-m',
        'slow or not slow',
        *files,
        *args.pytest_args,
      ],
      cwd=_REPO,
      env=env,
      check=False,
    )
    took = time.monotonic() - start
    totals = _summarise(stats)
  mode = 'quick (CI sizes)' if args.quick else 'full'
  print(f'\nFault suite, {mode}: pytest exit {done.returncode}, {took:.0f} s')
  print(f'{"scenario":48} {"result":>14}')
  for category, num, den, label in _ROWS:
    counts = totals.get(category)
    if not counts:
      print(f'{label:48} {"not run":>14}')
    elif num == den:
      print(f'{label:48} {counts[num]:>14}')
    else:
      print(f'{label:48} {f"{counts[num]} / {counts[den]}":>14}')
  evaluator = totals.get('evaluator')
  if evaluator:
    print(
      f'{"  checkpoints skipped (deleted / not ready)":48} '
      f'{evaluator["skipped"]:>14}'
    )
  return done.returncode


if __name__ == '__main__':
  sys.exit(main())
