r"""Global steps/s of distributed training against one process, on this host.

Runs the tutorial model on the bundled MNIST once in a single process and
then as 1 ps + W workers on 127.0.0.1 (W from --workers), async and, with
--sync, synchronous. The rate is the chief's own `N steps/sec` report
(global steps over wall time between log lines), median after --skip lines
of warm-up; process start-up and the final evaluation are not counted.
Prints a Markdown table with the load average before and after each run
(other people's work on a shared machine shows there).

    python scripts/bench_distributed.py --workers 1,2,4 --max_steps 3000

With --placement it instead builds each worker graph (the MLP and the conv
net, 1-3 ps tasks; no server, no training) and prints the bytes of the
variables on each ps task under graphnet's placement (greedy by bytes,
variables of --partition_min_bytes or more split) against TF's round robin,
the bytes a worker moves per step (it reads every trainable variable and
sends a gradient of each: 2x the trainable bytes), and the steps/s a
10 Gb/s link to the busiest ps allows:

    python scripts/bench_distributed.py --placement
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


def _placement_rows(model, num_ps):
  """(ps bytes, ps trainable bytes, round-robin ps bytes, total) of a graph."""
  import tensorflow.compat.v1 as tf

  from graphnet.data import mnist_reader
  from graphnet.distributed import cluster as cluster_lib
  from graphnet.training import config as config_lib
  from graphnet.training import train_graph

  tf.disable_eager_execution()
  data = mnist_reader.read_data_sets(str(_REPO / 'graphnet/data/mnist'))

  def build(min_bytes):
    cluster = cluster_lib.ClusterConfig(
      ps_hosts=tuple(f'127.0.0.1:{3000 + i}' for i in range(num_ps)),
      worker_hosts=('127.0.0.1:2999',),
      partition_min_bytes=min_bytes,
    )
    config = config_lib.TrainConfig(
      log_dir='unused',
      input_data_dir='unused',
      cluster=cluster,
      model=config_lib.ModelConfig(model),
    )
    return train_graph.build_train_graph(config, data).graph

  graph = build(cluster_lib.PARTITION_MIN_BYTES)
  loads, trainable = [0] * num_ps, [0] * num_ps
  train_names = {v.name for v in graph.get_collection('trainable_variables')}
  for var in graph.get_collection('variables'):
    task = int(var.device.split('/task:')[1].split('/')[0])
    size = cluster_lib.variable_bytes(var.op)
    loads[task] += size
    if var.name in train_names:
      trainable[task] += size
  # TF's default: one variable after the other, round robin, unsplit.
  robin = [0] * num_ps
  for i, var in enumerate(build(0).get_collection('variables')):
    robin[i % num_ps] += cluster_lib.variable_bytes(var.op)
  return loads, trainable, robin


def _placement(models=('mlp', 'conv'), ps_counts=(1, 2, 3), link_bps=10e9):
  print(
    '| model | ps | bytes on each ps (greedy, split) | busiest | '
    'round robin: busiest | moved per worker step | via busiest ps | '
    'steps/s a 10 Gb/s link allows |'
  )
  print('|---|---:|---|---:|---:|---:|---:|---:|')
  for model in models:
    for num_ps in ps_counts:
      loads, trainable, robin = _placement_rows(model, num_ps)
      total = sum(loads)
      moved = 2 * sum(trainable)
      busiest = trainable.index(max(trainable))
      via = 2 * trainable[busiest]
      print(
        f'| {model} | {num_ps} | {", ".join(f"{b:,}" for b in loads)} '
        f'(total {total:,}) | {max(loads) / total:.0%} | '
        f'{max(robin) / sum(robin):.0%} | {moved:,} B | {via:,} B | '
        f'{link_bps / 8 / via:,.0f} |'
      )


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument(
    '--placement',
    action='store_true',
    help='Print the bytes on each ps task and moved per step; no training.',
  )
  parser.add_argument('--workers', default='1,2,4')
  parser.add_argument('--num_ps', type=int, default=1)
  parser.add_argument('--max_steps', type=int, default=3000)
  parser.add_argument('--log_every', type=int, default=250)
  parser.add_argument('--skip', type=int, default=2)
  parser.add_argument('--sync', action='store_true')
  parser.add_argument('--timeout', type=float, default=600)
  args = parser.parse_args()
  if args.placement:
    sys.path.insert(0, str(_REPO))
    _placement()
    return
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
