"""graphnet's public trainer: any graph-mode model on any data.

`train(model, data_sets, log_dir, **options)` trains a model callable
(`model(images) -> logits` or `model(images, is_training) -> logits`
making its variables with `tf.get_variable`, e.g. a `layers.Sequential`)
on `input_data.Datasets` of any feature shape and class count, with
everything the MNIST trainer has: the TF1 log lines and "Precision @ 1"
evaluations, learning-rate schedules, moving averages, checkpoints with
the `.meta` contract (`images` `[None, *feature_shape]`), resume, the
resident input pipeline. The callable becomes an ad-hoc network of the
`models` registry; the trainer itself knows no model.

`fit(model, images, labels, epochs, batch_size=128)` is the same in epochs,
the loop of the deep-learning-basics notes in graph mode.

Example:
    import graphnet
    from graphnet.data import mnist_reader as input_data, layers
    model = layers.Sequential([layers.Flatten(),
                               layers.Dense(64, tf.nn.relu, name='hidden1'),
                               layers.Dense(10, name='softmax_linear')])
    data = input_data.from_arrays(train=(x_train, y_train),
                                  test=(x_test, y_test), validation_size=100)
    result = graphnet.train(model, data, '/tmp/digits', max_steps=2000,
                            optimizer='adam', learning_rate=1e-3)
    result.evaluations['test'].precision
"""

import dataclasses
import functools
import math
import os
import tempfile

import numpy as np

from graphnet import errors
from graphnet import options as options_lib
from graphnet.data import dataset
from graphnet.data import mnist_reader as input_data
from graphnet.nn import models
from graphnet.training import config as config_lib
from graphnet.training import schedules
from graphnet.training import session_config
from graphnet.training import trainer

__all__ = ['TrainResult', 'OPTIONS', 'train', 'fit']

TrainResult = trainer.TrainResult

# Fields of TrainConfig that `train` sets from its own arguments.
_NOT_OPTIONS = frozenset(
  {
    'log_dir',
    'input_data_dir',
    'fake_data',
    'data_npz',
    'validation_size',
    'model',
    'schedule',
    'session',
  }
)


def _option_names():
  """{option name: (group, field)}: the trainer's settings by flag name."""
  names = {}
  for f in dataclasses.fields(config_lib.TrainConfig):
    if f.name not in _NOT_OPTIONS:
      names[options_lib.name_of(f.name)] = ('train', f.name)
  for f in dataclasses.fields(schedules.Schedule):
    names[options_lib.name_of(f.name)] = ('schedule', f.name)
  for f in dataclasses.fields(session_config.SessionOptions):
    names[options_lib.name_of(f.name)] = ('session', f.name)
  names['regularization_rate'] = ('model', 'regularization_rate')
  return names


# The options `train` and `fit` accept, sorted.
OPTIONS = tuple(sorted(_option_names()))

_print_flush = functools.partial(print, flush=True)


def _group_options(options):
  """Splits `options` by the config object each one belongs to.

  Raises:
    ConfigError: an unknown option (its `field`), listing the valid ones.
  """
  known = _option_names()
  groups = {'train': {}, 'schedule': {}, 'session': {}, 'model': {}}
  for name, value in options.items():
    if name not in known:
      raise errors.ConfigError(
        f'train: unknown option {name!r}; valid options are '
        f'{", ".join(OPTIONS)}.',
        field=name,
      )
    group, field = known[name]
    groups[group][field] = value
  # An option whose default differs from its field's (steps_per_run: the
  # automatic rule) takes its own when not given.
  for f in dataclasses.fields(config_lib.TrainConfig):
    if options_lib.is_option(f) and f.name not in groups['train']:
      default = options_lib.option_default(f)
      if default is not f.default:
        groups['train'][f.name] = default
  return groups


def _make_config(spec, log_dir, options):
  """The TrainConfig of `options`.

  Raises:
    ConfigError: a bad value; a field the caller knows under another
      option name (`base_rate`: `learning_rate`) is named by that option.
  """
  groups = _group_options(options)
  try:
    return config_lib.TrainConfig(
      log_dir=os.fspath(log_dir),
      input_data_dir='',
      model=config_lib.ModelConfig(spec.name, **groups['model']),
      schedule=schedules.Schedule(**groups['schedule']),
      session=session_config.SessionOptions(**groups['session']),
      **groups['train'],
    )
  except errors.ConfigError as e:
    option = options_lib.as_argument(e.field) if e.field else e.field
    if option == e.field:
      raise
    raise errors.ConfigError(f'{option}: {e}', field=option) from e


def train(model, data_sets, log_dir, *, printer=_print_flush, **options):
  """Trains `model` on `data_sets`, checkpointing to `log_dir`.

  Resumes from the latest checkpoint in `log_dir` (options such as
  `max_steps` count global steps). A `log_dir` already trained to
  `max_steps` is not trained again: one line says so (naming `max_steps`
  and `log_dir`), its checkpoint is evaluated and the result has
  `trained_steps == 0` (`nothing_trained`). Unless `steps_per_run` is given,
  it is the largest N <= 100 dividing `log_every`, `eval_every`,
  `save_checkpoint_steps` (and a fed schedule's boundaries): same steps,
  batches and checkpoints as one step per run, only faster. The graph is
  built for the data: `images` `[None, *data_sets.feature_shape]`, logits
  checked to be `data_sets.num_classes` wide. The checkpoints restore with
  `predictor.Predictor` and export with `exporter`; `mnist_eval`-style
  evaluation scores them through their saved graph.

  Args:
    model: callable `model(images) -> logits` or `model(images,
      is_training) -> logits` (python bool), making its variables with
      `tf.get_variable` (e.g. a `layers.Sequential`); or the name of a
      registered network ('mlp', 'conv').
    data_sets: `input_data.Datasets` (from `from_arrays`, `read_npz`,
      `read_data_sets`).
    log_dir: directory of checkpoints and events; created, never wiped.
    printer: function taking one output line.
    **options: training settings by their flag names (see `OPTIONS`):
      max_steps, batch_size, learning_rate, optimizer, momentum,
      lr_schedule, decay_steps, decay_rate, staircase, lr_boundaries,
      lr_values, moving_average_decay, regularization_rate (L2 on each
      variable named `weights` the model makes), eval_every, log_every,
      save_checkpoint_steps, keep_checkpoint_max, input_pipeline,
      steps_per_run, seed, device, cluster, ...

  Returns:
    a `trainer.TrainResult`: global_step, checkpoint, evaluations
    ('train', 'validation', 'test' -> EvalResult of the last evaluation,
    or of the existing checkpoint when nothing was trained), trained_steps;
    a split without examples is never evaluated and has no entry, so no
    precision is NaN.

  Raises:
    ConfigError: an unknown option or a bad value (its `field` names it),
      or logits that are not `[batch, num_classes]`.
    DataError: a split holds fewer examples than a batch.
    and whatever `trainer.run_training` raises.
  """
  if isinstance(model, str):
    spec = models.get(model)
  else:
    spec = models.register_callable(model)
  train_config = _make_config(spec, log_dir, options)
  dataset.check_batch_size(data_sets, train_config.batch_size)
  return trainer.run_training(
    train_config,
    printer,
    data_sets=data_sets,
    names=options_lib.as_argument,
    evaluate_trained=True,
  )


def _empty_like(images, labels):
  return np.asarray(images)[:0], np.asarray(labels)[:0]


def fit(
  model,
  images,
  labels,
  epochs,
  batch_size=128,
  validation_data=None,
  log_dir=None,
  **options,
):
  """Trains `model` for `epochs` passes over `images` (the seed's `fit`).

  Batches come in TF1's `next_batch` order (reshuffled each epoch, a
  batch crossing an epoch's end takes the next epoch's head); an epoch is
  `ceil(N / batch_size)` steps. A loss line is printed every `log_every`
  (default 100) batches
  and the evaluations at the end of each epoch: the training set, and
  `validation_data` (as validation and test) when given.

  Args:
    model: see `train`.
    images: array [N, features...]: uint8 pixels (scaled to [0, 1]) or
      float features (kept as given).
    labels: integer class ids [N].
    epochs: int >= 1.
    batch_size: examples per step.
    validation_data: optional (images, labels) scored as validation and
      test sets.
    log_dir: checkpoint directory; default a new temporary directory,
      named in one printed line and kept.
    **options: as for `train` (e.g. optimizer='rmsprop', seed=0);
      `max_steps` is set from `epochs`.

  Returns:
    a `trainer.TrainResult`; its `evaluations` hold 'train' and, only
    when `validation_data` is given, 'validation' and 'test'.

  Raises:
    ConfigError: a bad `epochs`, `max_steps` given, or as for `train`.
    DataError: bad arrays (see `input_data.from_arrays`).
  """
  if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
    raise errors.ConfigError(
      f'fit: epochs must be an int >= 1, got {epochs!r}.', field='epochs'
    )
  if 'max_steps' in options:
    raise errors.ConfigError(
      'fit: max_steps is set from epochs; pass epochs, or call '
      'graphnet.train for a step count.',
      field='max_steps',
    )
  held_out = validation_data or _empty_like(images, labels)
  data_sets = input_data.from_arrays(
    train=(images, labels),
    test=held_out,
    validation=held_out,
    seed=options.get('seed'),
  )
  steps_per_epoch = math.ceil(data_sets.train.num_examples / batch_size)
  options.setdefault('eval_every', steps_per_epoch)
  if log_dir is None:
    log_dir = tempfile.mkdtemp(prefix='graphnet_fit_')
    # Checkpoints the caller did not place must not vanish unannounced.
    options.get('printer', _print_flush)(
      f'graphnet: note: no log_dir given; checkpoints and events go to '
      f'{log_dir} (kept; pass log_dir= to choose).'
    )
  return train(
    model,
    data_sets,
    log_dir,
    max_steps=epochs * steps_per_epoch,
    batch_size=batch_size,
    **options,
  )
