"""Runs one entry point on many crafted checkpoints in one process.

    python tests/_attack_driver.py predict cases.json results.jsonl

`cases.json` is a list of {"name", "checkpoint", "out"}; for each case the
entry point's `main` runs as `python -m graphnet.<entry>` would run it
(flags parsed, `cli.exit_code` around the work), and one JSON line is
appended to `results.jsonl`: name, exit code, stdout, stderr, seconds. The
`predict` driver also restores each case with `Predictor.from_checkpoint`
(entry "Predictor"). One process per entry point saves TF's start-up per
case; the test runs it with a timeout and memory limits, so a case that
blocks or aborts fails the test instead of hanging it.
"""

import contextlib
import io
import json
import resource
import sys
import time


def _run_main(module, argv):
  from absl import flags  # noqa: PLC0415

  out, err = io.StringIO(), io.StringIO()
  with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    try:
      flags.FLAGS.unparse_flags()
      rest = flags.FLAGS(argv)
      code = module.main(rest)
    except flags.Error as e:
      print(f'flags: {e}', file=sys.stderr)
      code = 2
  return code, out.getvalue(), err.getvalue()


def _predictor_case(case):
  from graphnet import errors  # noqa: PLC0415
  from graphnet import predictor  # noqa: PLC0415

  try:
    with predictor.Predictor.from_checkpoint(case['checkpoint']) as p:
      p.predict_proba(case['images'])
    return 0, '', ''
  except errors.GraphnetError as e:
    return 1, '', f'{type(e).__name__}: {e}'


def _argv(entry, case):
  if entry == 'predict':
    return ['predict', '--checkpoint', case['checkpoint'], case['image']]
  if entry == 'export':
    return [
      'export',
      '--checkpoint',
      case['checkpoint'],
      '--frozen_graph',
      case['out'],
    ]
  return [
    'mnist_eval',
    '--checkpoint_dir',
    case['checkpoint'],
    '--run_once',
    '--input_data_dir',
    case['data_dir'],
  ]


def main(entry, cases_path, results_path):
  import importlib  # noqa: PLC0415

  module = importlib.import_module(f'graphnet.{entry}')
  with open(cases_path) as f:
    cases = json.load(f)
  if entry == 'mnist_eval':
    # Read once: the evaluator reads MNIST before each checkpoint.
    reader = module.input_data.read_data_sets
    data = reader(cases[0]['data_dir'], validation_size=None)
    module.input_data.read_data_sets = lambda *a, **k: data
  runs = [(entry, _run_main, module)]
  if entry == 'predict':
    import numpy as np  # noqa: PLC0415

    for case in cases:
      case['images'] = np.zeros([2, 784], np.float32)
    runs.append(('Predictor', None, None))
  for case in cases:
    for name, runner, mod in runs:
      start = time.monotonic()
      if runner is None:
        code, out, err = _predictor_case(case)
      else:
        code, out, err = runner(mod, _argv(entry, case))
      record = dict(
        case=case['name'],
        entry=name,
        code=code,
        stdout=out,
        stderr=err,
        secs=time.monotonic() - start,
      )
      with open(results_path, 'a') as f:
        f.write(json.dumps(record) + '\n')
  # This driver's own peak and its workers': not the test process's other
  # children, which earlier tests may have made large.
  peak = max(
    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
  )
  with open(results_path, 'a') as f:
    f.write(json.dumps(dict(case='peak', entry=entry, kib=peak)) + '\n')


if __name__ == '__main__':
  from graphnet.cli import quiet

  quiet.setup()
  main(*sys.argv[1:4])
