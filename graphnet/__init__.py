"""graphnet: TensorFlow 1 graph-mode training, kept alive on TensorFlow 2.

`from graphnet import input_data, mnist` is TF1's tutorial API; importing
the package itself loads nothing (no TensorFlow). Modules, by layer:

Data
  contract         image size, class count, the saved graph's tensor names
  idx, download    IDX files; fetching and verifying them
  input_data       DataSet / read_data_sets (TF1's API)
  input_pipeline   the training set in graph variables, in-graph loops
Models
  mnist            Mechanics-101 builders: inference/loss/training/evaluation
  deep_mnist       the "Deep MNIST" convolutional network
  models           registry name -> ModelSpec ('mlp', 'conv'): add one here
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
Serving
  graph_safety, predictor, exporter   checked .meta graphs, Predictor,
                                      SavedModel / frozen graph export
Command line (flags live only here)
  cli, train_flags     shared flag helpers; the trainer's flags and presets
  fully_connected_feed, mnist_eval, predict, export   the entry points
"""

__version__ = '0.1.0'
