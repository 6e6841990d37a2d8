r"""Do sync-replicas clusters end on their own under CPU contention?

Runs `--runs` synchronous clusters (1 ps + 2 workers, --sync_replicas,
`--max_steps` steps each) one after the other while `--busy` processes of
this script spin on the same cores, and reports for each run how long the
chief took after printing its final evaluation to exit, and whether every
task ended by itself within `--end_secs` (then the launcher stops what is
left and the run counts as hung). The busy processes end with the script
(and by themselves after `--busy_secs`).

    python scripts/sync_end_under_load.py --runs 20 --busy 2
"""

import argparse
import importlib.util
import multiprocessing
import pathlib
import signal
import sys
import tempfile
import time

_REPO = pathlib.Path(__file__).resolve().parents[1]


def _load_launcher():
  path = _REPO / 'scripts/launch_local_cluster.py'
  spec = importlib.util.spec_from_file_location('launch_local_cluster', path)
  module = importlib.util.module_from_spec(spec)
  sys.modules[spec.name] = module
  spec.loader.exec_module(module)
  return module


def _spin(secs):
  deadline = time.time() + secs
  x = 0
  while time.time() < deadline:
    x = (x * 31 + 7) % 1000003


def _run(launcher, tmp, index, args):
  """(ended on its own, secs from the final evaluation to the chief's exit)."""
  trainer_args = [
    f'--log_dir={tmp}/run{index}',
    f'--input_data_dir={tmp}/data',
    f'--max_steps={args.max_steps}',
    '--sync_replicas',
    '--eval_sets=test',
    *args.trainer_args,
  ]
  # A hung task dumps every thread's stack when it gets SIGABRT.
  env = {'PYTHONFAULTHANDLER': '1'}
  with launcher.LocalCluster(1, 2, trainer_args, env=env) as local:
    local.start()
    started = time.time()
    chief = local.tasks['worker0']
    evaluated = None
    while time.time() - started < args.end_secs:
      if evaluated is None and any('Test Data Eval' in x for x in chief.lines):
        evaluated = time.time()
      if all(t.returncode is not None for t in local.tasks.values()):
        break
      time.sleep(0.2)
    ended = all(t.returncode == 0 for t in local.tasks.values())
    exited = time.time()
    if not ended:
      for name, task in local.tasks.items():
        print(f'{name}: rc {task.returncode}')
        if task.returncode is None:
          task.process.send_signal(signal.SIGABRT)
      time.sleep(5)
      for name, task in local.tasks.items():
        print(f'--- {name} ---')
        print('\n'.join(task.lines[-80:]))
  tail = (exited - evaluated) if evaluated else float('nan')
  return ended, tail, exited - started


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--runs', type=int, default=20)
  parser.add_argument('--busy', type=int, default=2)
  parser.add_argument('--busy_secs', type=float, default=3600)
  parser.add_argument('--max_steps', type=int, default=300)
  parser.add_argument('--end_secs', type=float, default=300)
  parser.add_argument(
    '--trainer_args',
    nargs='*',
    default=['--fake_data', '--moving_average_decay', '0.9'],
    help='More flags for every task (default: as TestSync).',
  )
  args = parser.parse_args()
  launcher = _load_launcher()
  busy = [
    multiprocessing.Process(target=_spin, args=(args.busy_secs,), daemon=True)
    for _ in range(args.busy)
  ]
  for process in busy:
    process.start()
  results = []
  try:
    with tempfile.TemporaryDirectory() as tmp:
      for i in range(args.runs):
        ended, tail, total = _run(launcher, tmp, i, args)
        results.append((ended, tail, total))
        print(
          f'run {i + 1}: ended on its own {ended}, exit {tail:.1f} s after '
          f'the final evaluation, {total:.0f} s in all',
          flush=True,
        )
  finally:
    for process in busy:
      process.terminate()
      process.join()
  ok = sum(e for e, _, _ in results)
  tails = sorted(t for _, t, _ in results)
  totals = sorted(t for _, _, t in results)
  print(
    f'\n{ok}/{len(results)} sync runs ended on their own under '
    f'{args.busy} busy processes; exit after the final evaluation: '
    f'median {tails[len(tails) // 2]:.1f} s, max {tails[-1]:.1f} s; whole '
    f'run median {totals[len(totals) // 2]:.0f} s, max {totals[-1]:.0f} s'
  )
  return 0 if ok == len(results) else 1


if __name__ == '__main__':
  sys.exit(main())
