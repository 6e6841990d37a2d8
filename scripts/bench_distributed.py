r"""Global steps/s of distributed training against one process, on this host.

Runs the tutorial model on the bundled MNIST once in a single process and
then as 1 ps + W workers on 127.0.0.1 (W from --workers), async and, with
--sync, synchronous. The rate is the chief's own `N steps/sec` report
(global steps over wall time between log lines), median after --skip lines
of warm-up; process start-up and the final evaluation are not counted.
Prints a Markdown table with the load average before and after each run
(other people's work on a shared machine shows there).

    python scripts/bench_distributed.py --workers 1,2,4 --max_steps 3000
"""

import argparse
import importlib.util
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile

_REPO = pathlib.Path(__file__).resolve().parents[1]
_RATE = re.compile(r'^Step \d+: .* ([0-9.]+) steps/sec')


def _load_launcher():
  path = _REPO / 'scripts/launch_local_cluster.py'
  spec = importlib.util.spec_from_file_location('launch_local_cluster', path)
  module = importlib.util.module_from_spec(spec)
  sys.modules[spec.name] = module
  spec.loader.exec_module(module)
  return module


def _rate(lines, skip):
  rates = [float(m.group(1)) for m in map(_RATE.match, lines) if m]
  rates = rates[skip:] or rates
  return statistics.median(rates) if rates else float('nan')


def _load():
  return os.getloadavg()[0]


def _single(args, trainer_args):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
  env['PYTHONPATH'] = os.pathsep.join(
    p for p in (str(_REPO), env.get('PYTHONPATH')) if p
  )
  result = subprocess.run(
    [sys.executable, '-u', '-m', 'graphnet.fully_connected_feed']
    + trainer_args,
    capture_output=True,
    text=True,
    env=env,
    check=False,
  )
  if result.returncode:
    sys.exit(f'single-process run failed:\n{result.stderr[-3000:]}')
  return _rate(result.stdout.splitlines(), args.skip)


def _cluster(launcher, args, workers, trainer_args):
  with launcher.LocalCluster(args.num_ps, workers, trainer_args) as local:
    local.start()
    if local.wait('worker0', timeout=args.timeout) != 0:
      sys.exit(
        f'{workers}-worker run failed:\n'
        + '\n'.join(local.tasks['worker0'].lines[-40:])
      )
    return _rate(local.tasks['worker0'].lines, args.skip)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--workers', default='1,2,4')
  parser.add_argument('--num_ps', type=int, default=1)
  parser.add_argument('--max_steps', type=int, default=3000)
  parser.add_argument('--log_every', type=int, default=250)
  parser.add_argument('--skip', type=int, default=2)
  parser.add_argument('--sync', action='store_true')
  parser.add_argument('--timeout', type=float, default=600)
  args = parser.parse_args()
  launcher = _load_launcher()
  rows = []
  with tempfile.TemporaryDirectory() as tmp:

    def trainer_args(name, extra=()):
      return [
        f'--log_dir={tmp}/{name}',
        f'--input_data_dir={tmp}/data',
        f'--max_steps={args.max_steps}',
        f'--log_every={args.log_every}',
        f'--eval_every={args.max_steps}',
        f'--save_checkpoint_steps={args.max_steps}',
      ] + list(extra)

    before = _load()
    single = _single(args, trainer_args('single'))
    rows.append(('1 process (no gRPC)', single, before, _load()))
    modes = [('async', [])] + (
      [('sync', ['--sync_replicas'])] if args.sync else []
    )
    for mode, extra in modes:
      for workers in [int(w) for w in args.workers.split(',')]:
        before = _load()
        rate = _cluster(
          launcher, args, workers, trainer_args(f'{mode}{workers}', extra)
        )
        rows.append(
          (
            f'{args.num_ps} ps + {workers} worker(s), {mode}',
            rate,
            before,
            _load(),
          )
        )
  print(f'\nmax_steps {args.max_steps}, batch 100, {os.cpu_count()} CPUs\n')
  print('| setup | global steps/s | vs 1 process | load avg before/after |')
  print('|---|---:|---:|---|')
  for name, rate, before, after in rows:
    print(
      f'| {name} | {rate:.0f} | {rate / single:.2f}x | '
      f'{before:.1f} / {after:.1f} |'
    )


if __name__ == '__main__':
  main()
