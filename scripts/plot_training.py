r"""Draws the training curves of a graphnet log_dir into a PNG.

    python scripts/plot_training.py --log_dir /tmp/tensorflow/mnist/logs/\
fully_connected_feed --out curves.png

Reads the events files of the trainer (`loss`, `learning_rate`,
`precision/train|validation|test` in log_dir) and of `graphnet.mnist_eval`
(`accuracy/*` in the `eval_*` subdirectories) with TensorBoard's
EventAccumulator, and draws two panels against the global step: the loss
(with the learning rate on a second axis) and the precisions/accuracies.
"""

import argparse
import os
import re
import sys

import matplotlib

# No display is needed (or wanted) to write a PNG.
matplotlib.use('Agg')

from graphnet.cli import quiet  # noqa: E402

# TensorBoard's event reader imports TF: hide its start-up chatter and the
# "more than one graph event" warnings unless asked for (-v 1).
quiet.setup()

import matplotlib.pyplot as plt  # noqa: E402
from tensorboard.backend.event_processing import event_accumulator  # noqa: E402

from graphnet import errors  # noqa: E402

__all__ = ['read_curves', 'plot_curves', 'main']

_EVENTS_MARK = 'tfevents'
# TF makes a summary tag unique within a graph, so a run whose graph already
# has a `learning_rate` op logs the rate as `learning_rate_1`.
_RATE_TAG = re.compile(r'learning_rate(_\d+)?$')


def _has_events(directory):
  return os.path.isdir(directory) and any(
    _EVENTS_MARK in name for name in os.listdir(directory)
  )


def _event_dirs(log_dir):
  """log_dir and its `eval_*` subdirectories that hold events files."""
  dirs = [log_dir]
  if os.path.isdir(log_dir):
    dirs += sorted(
      os.path.join(log_dir, name)
      for name in os.listdir(log_dir)
      if name.startswith('eval_')
    )
  return [d for d in dirs if _has_events(d)]


def read_curves(log_dir):
  """Reads every scalar series of a training run.

  Args:
    log_dir: the trainer's log_dir.

  Returns:
    dict tag -> (steps, values), two lists in the order the events were
    written (all of them: size guidance 0), e.g. `'loss'`,
    `'precision/test'`, `'accuracy/validation'`. A tag found in two
    directories is keyed `<subdir>/<tag>` for the subdirectory's copy.

  Raises:
    DataError: no events file in log_dir or its `eval_*` subdirectories.
  """
  dirs = _event_dirs(log_dir)
  if not dirs:
    raise errors.DataError(
      f'No events file (*tfevents*) in {log_dir} or its eval_* '
      'subdirectories; expected the --log_dir of '
      'graphnet.fully_connected_feed.',
      path=log_dir,
    )
  curves = {}
  for directory in dirs:
    acc = event_accumulator.EventAccumulator(
      directory, size_guidance={event_accumulator.SCALARS: 0}
    )
    acc.Reload()
    for tag in acc.Tags()[event_accumulator.SCALARS]:
      events = acc.Scalars(tag)
      key = tag
      if key in curves:
        key = f'{os.path.basename(directory)}/{tag}'
      curves[key] = ([e.step for e in events], [e.value for e in events])
  return curves


def plot_curves(curves, out, title=None):
  """Draws loss and precision against step into the image file `out`."""
  fig, (loss_ax, prec_ax) = plt.subplots(1, 2, figsize=(11, 4))
  if 'loss' in curves:
    loss_ax.plot(*curves['loss'], label='loss', color='tab:blue')
  loss_ax.set_xlabel('global step')
  loss_ax.set_ylabel('loss')
  loss_ax.set_title('Training loss')
  rate_tags = sorted(t for t in curves if _RATE_TAG.match(t))
  if rate_tags:
    rate_ax = loss_ax.twinx()
    rate_ax.plot(*curves[rate_tags[0]], color='tab:gray', linestyle='--')
    rate_ax.set_ylabel('learning rate (dashed)')
  for tag in sorted(curves):
    kind = tag.split('/')[-2:-1]
    if kind == ['precision']:
      prec_ax.plot(*curves[tag], marker='o', markersize=3, label=tag)
    elif kind == ['accuracy']:
      # mnist_eval's points often sit on the trainer's: draw them apart.
      prec_ax.plot(
        *curves[tag], marker='x', markersize=9, linestyle=':', label=tag
      )
  prec_ax.set_xlabel('global step')
  prec_ax.set_ylabel('precision @ 1')
  prec_ax.set_title('Precision')
  if prec_ax.lines:
    prec_ax.legend(loc='lower right')
  if title:
    fig.suptitle(title)
  fig.tight_layout()
  fig.savefig(out, dpi=100)
  plt.close(fig)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--log_dir', required=True, help="The trainer's log_dir.")
  parser.add_argument('--out', default='curves.png', help='PNG to write.')
  parser.add_argument(
    '-v', '--verbosity', type=int, default=0, help="1: show TF's logs."
  )
  args = parser.parse_args(argv)
  try:
    curves = read_curves(args.log_dir)
  except errors.GraphnetError as e:
    print(f'plot_training: error: {e}', file=sys.stderr)
    return 1
  plot_curves(curves, args.out, title=args.log_dir)
  print(f'Wrote {args.out} ({len(curves)} series).')
  return 0


if __name__ == '__main__':
  sys.exit(main())
