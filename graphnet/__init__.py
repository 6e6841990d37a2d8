"""graphnet: TensorFlow 1 graph-mode training, kept alive on TensorFlow 2.

`from graphnet import input_data, mnist` is TF1's tutorial API;
`graphnet.train(model, data_sets, log_dir, **options)` and
`graphnet.fit(model, images, labels, epochs)` train any graph-mode model
(e.g. one of `graphnet.layers`) on any data. Importing the package itself
loads nothing (no TensorFlow): those three names load on first use.
Modules, by layer:

Data
  contract         image size, class count, the saved graph's tensor names
  idx, download    IDX files; fetching and verifying them
  temp_files       temp files renamed into place; killed writers' leftovers
  read_ahead       files inflated on a thread while TF imports
  dataset          DataSet, Datasets; data_checks: their argument checks
  input_data       DataSet / read_data_sets (TF1's API)
  input_pipeline   in-graph training loops over fed or graph-resident batches
Models
  layers           Dense, Conv2D, ..., Sequential: graph-mode layer objects
  mnist            Mechanics-101 builders: inference/loss/training/evaluation
  deep_mnist       the "Deep MNIST" convolutional network
  models           registry name -> ModelSpec ('mlp', 'conv', a user's
                   model callable): add one here
Training
  config           TrainConfig / ModelConfig dataclasses (rules checked once)
  schedules        learning-rate schedules; piecewise: their shared rule
  train_graph      build_train_graph: towers, optimizer, input paths
  hooks            every SessionRunHook of the loop
  trainer          run_training: hooks, session and cluster life cycle
  checkpoints      checks before restoring, the `checkpoint` state file
  evaluation       EvalTower: exact counts over whole data sets
  continuous_eval  evaluates checkpoints as they appear (TF1's mnist_eval)
  cluster, session_config, signals   distribution, sessions, SIGINT/SIGTERM
  errors           the error hierarchy
  api              train / fit: the public trainer of any model callable
Serving
  graph_safety, predictor, exporter   checked .meta graphs, Predictor,
                                      SavedModel / frozen graph export
Command line (flags live only here)
  cli, train_flags     shared flag helpers; the trainer's flags and presets
  quiet, tf_loader     TF imported quietly, without Keras, for commands
  fully_connected_feed, mnist_eval, predict, export   the entry points
"""

import importlib

__version__ = '0.1.0'

__all__ = ['train', 'fit', 'layers']

# Public name -> (module, attribute or None for the module itself).
_LAZY = {
  'train': ('graphnet.api', 'train'),
  'fit': ('graphnet.api', 'fit'),
  'layers': ('graphnet.layers', None),
}


def __getattr__(name):
  """Loads `train`, `fit` and `layers` (and TensorFlow) on first use."""
  if name not in _LAZY:
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
  module_name, attribute = _LAZY[name]
  module = importlib.import_module(module_name)
  return module if attribute is None else getattr(module, attribute)
