r"""Runs graphnet's whole fault-injection suite and prints what it survived.

    python scripts/fault_suite.py            # full: 24 kills, 600 fuzz cases...
    python scripts/fault_suite.py --quick    # the reduced CI sizes

Runs, in one pytest process with GRAPHNET_FAULTS_FULL=1 (more kills, fuzz
examples and signal cases than the default CI run): tests/test_faults_*.py,
the checkpoint-state scenarios (another directory's checkpoints, readers
beside a trainer, a save killed mid-way), the crafted `.meta` attacks, the
hostile download server, the lost parameter server, and - where present -
the log_dir lock and disk-full tests. Counting tests append their counts
to a JSON-lines file named by GRAPHNET_FAULTS_STATS; the others count as
passed / run tests (from pytest's JUnit XML). One table for BENCHMARKS.md;
exits with pytest's status.
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
from xml.etree import ElementTree

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (category, numerator key, denominator key, label) of the counting tests.
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
  (
    'evaluator',
    'skipped',
    'skipped',
    '  checkpoints skipped (deleted / not ready)',
  ),
  (
    'foreign',
    'intact',
    'tried',
    "other dir's checkpoints: left byte-identical",
  ),
  ('readers', 'ok', 'attempts', 'Predictor beside a saving trainer: loads'),
  ('readers', 'evaluated', 'evaluated', '  evaluator polling beside it: evals'),
  ('readers', 'eval_skipped', 'eval_skipped', '    skipped (deleted under it)'),
  ('readers', 'cli_ok', 'cli_runs', '  predict CLI beside it: exit 0'),
  (
    'leftovers',
    'removed',
    'tried',
    'killed save: temp files removed at restart',
  ),
)

# (pytest node ids, label) of the tests counted as passed / run. A file
# that does not exist (yet) in this tree shows as "not present".
_TEST_ROWS = (
  (('tests/test_checkpoint_state.py',), 'checkpoint state tests passed'),
  (('tests/test_untrusted_meta.py',), 'crafted .meta attacks: tests passed'),
  (
    tuple(
      f'tests/test_download.py::{name}'
      for name in (
        'TestDeadline',
        'TestSizeCap',
        'TestRedirects',
        'TestSigterm',
        'TestStaleTempFiles',
      )
    ),
    'hostile download server: tests passed',
  ),
  (
    ('tests/test_distributed.py::TestLostPs',),
    'killed ps: all tasks end, restart resumes',
  ),
  (('tests/test_run_lock.py',), 'second trainer on a log_dir: tests passed'),
  (('tests/test_disk_full.py',), 'disk full: tests passed'),
)


def _summarise(path):
  totals = collections.defaultdict(collections.Counter)
  if os.path.exists(path):
    with open(path) as f:
      for line in f:
        for category, counts in json.loads(line).items():
          totals[category].update(counts)
  return totals


def _present(node_ids):
  return os.path.exists(os.path.join(_REPO, node_ids[0].split('::')[0]))


def _test_results(junit_path):
  """{(file, class or ''): [passed, run]} from pytest's JUnit XML."""
  results = collections.defaultdict(lambda: [0, 0])
  if not os.path.exists(junit_path):
    return results
  for case in ElementTree.parse(junit_path).iter('testcase'):
    # classname: tests.test_download.TestDeadline or tests.test_download.
    parts = case.get('classname', '').split('.')
    module = '/'.join(p for p in parts if p.startswith(('tests', 'test_')))
    cls = next((p for p in parts if p.startswith('Test')), '')
    outcome = {child.tag for child in case}
    if 'skipped' in outcome:
      continue
    counts = results[(module + '.py', cls)]
    counts[1] += 1
    counts[0] += not outcome & {'failure', 'error'}
  return results


def _count(results, node_ids):
  passed = run = 0
  for node in node_ids:
    path, _, cls = node.partition('::')
    for (file, case_cls), (p, r) in results.items():
      if file == path and (not cls or case_cls == cls):
        passed, run = passed + p, run + r
  return passed, run


def _print_table(totals, results):
  print(f'{"scenario":48} {"result":>14}')
  for category, num, den, label in _ROWS:
    counts = totals.get(category)
    if not counts:
      print(f'{label:48} {"not run":>14}')
    elif num == den:
      print(f'{label:48} {counts[num]:>14}')
    else:
      print(f'{label:48} {f"{counts[num]} / {counts[den]}":>14}')
  for node_ids, label in _TEST_ROWS:
    passed, run = _count(results, node_ids)
    if not _present(node_ids):
      result = 'not present'
    elif not run:
      result = 'not run'
    else:
      result = f'{passed} / {run}'
    print(f'{label:48} {result:>14}')


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument(
    '--quick', action='store_true', help='Use the reduced CI sizes.'
  )
  parser.add_argument('pytest_args', nargs='*', help='Extra pytest arguments.')
  args = parser.parse_args()
  with tempfile.TemporaryDirectory() as tmp:
    stats = os.path.join(tmp, 'stats.jsonl')
    junit = os.path.join(tmp, 'junit.xml')
    env = dict(os.environ, GRAPHNET_FAULTS_STATS=stats)
    if not args.quick:
      env['GRAPHNET_FAULTS_FULL'] = '1'
    files = sorted(glob.glob(os.path.join(_REPO, 'tests', 'test_faults_*.py')))
    files = [os.path.relpath(f, _REPO) for f in files]
    extra = [n for ids, _ in _TEST_ROWS if _present(ids) for n in ids]
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
        f'--junitxml={junit}',
        *files,
        *extra,
        *args.pytest_args,
      ],
      cwd=_REPO,
      env=env,
      check=False,
    )
    took = time.monotonic() - start
    totals = _summarise(stats)
    results = _test_results(junit)
  mode = 'quick (CI sizes)' if args.quick else 'full'
  load = ', '.join(f'{x:.1f}' for x in os.getloadavg())
  print(
    f'\nFault suite, {mode}: pytest exit {done.returncode}, {took:.0f} s, '
    f'{time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}, '
    f'load average {load} on {os.cpu_count()} CPUs'
  )
  _print_table(totals, results)
  return done.returncode


if __name__ == '__main__':
  sys.exit(main())
