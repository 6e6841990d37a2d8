r"""Goldens for graphnet's Estimator, made by real TensorFlow 1.15.

Run under TF 1.15 (the oracle), from the repository root:

    ../tf1venv/bin/python scripts/tf1_goldens/make_estimator_goldens.py

It writes tests/goldens/tf1_estimator/:

* `digits.npz`: 2000 training and 500 test MNIST digits (the first ones of
  ../shared/datasets/mnist, or --mnist_dir), averaged down to 14x14
  uint8;
* `model/`: the final checkpoint (`.index` and `.data`; the `.meta`,
  graph and events are left out to stay small) and `checkpoint` state of
  tests/tf1_programs/estimator_dataset.py trained 300 steps, run here with
  its import line changed to `import tensorflow as tf`;
* `metrics.json`: what its `evaluate` returned; `variables.json`: the
  checkpoint's {name: shape}.

tests/compat/test_estimator_goldens.py resumes that model_dir under
graphnet and checks that `evaluate` returns the same metrics.
"""

import argparse
import gzip
import json
import os
import shutil
import tempfile

import numpy as np

_REPO = os.path.dirname(
  os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
GOLDEN_DIR = os.path.join(_REPO, 'tests', 'goldens', 'tf1_estimator')
PROGRAM = os.path.join(_REPO, 'tests', 'tf1_programs', 'estimator_dataset.py')
GRAPHNET_IMPORT = 'import graphnet.compat.v1 as tf\n'
TF1_IMPORT = 'import tensorflow as tf\n'
TRAIN, TEST = 2000, 500
STEPS = 300


def _idx(path):
  with gzip.open(path, 'rb') as f:
    data = f.read()
  dims = data[3]
  shape = [
    int.from_bytes(data[4 + 4 * i : 8 + 4 * i], 'big') for i in range(dims)
  ]
  return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def _small(images):
  """28x28 -> 14x14 by 2x2 means, uint8."""
  n = len(images)
  return (
    images.reshape(n, 14, 2, 14, 2).mean(axis=(2, 4)).round().astype(np.uint8)
  )


def write_data(mnist_dir, path):
  images = _idx(os.path.join(mnist_dir, 'train-images-idx3-ubyte.gz'))
  labels = _idx(os.path.join(mnist_dir, 'train-labels-idx1-ubyte.gz'))
  test_images = _idx(os.path.join(mnist_dir, 't10k-images-idx3-ubyte.gz'))
  test_labels = _idx(os.path.join(mnist_dir, 't10k-labels-idx1-ubyte.gz'))
  np.savez_compressed(
    path,
    x_train=_small(images[:TRAIN]),
    y_train=labels[:TRAIN],
    x_test=_small(test_images[:TEST]),
    y_test=test_labels[:TEST],
  )


def load_program():
  """The program's module namespace, with TF 1.15's import."""
  with open(PROGRAM, encoding='utf-8') as f:
    source = f.read()
  assert GRAPHNET_IMPORT in source, PROGRAM
  namespace = {'__name__': 'estimator_dataset'}
  exec(
    compile(source.replace(GRAPHNET_IMPORT, TF1_IMPORT), PROGRAM, 'exec'),
    namespace,
  )
  return namespace


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--mnist_dir', default='../shared/datasets/mnist')
  args = parser.parse_args()
  os.makedirs(GOLDEN_DIR, exist_ok=True)
  data = os.path.join(GOLDEN_DIR, 'digits.npz')
  write_data(args.mnist_dir, data)
  program = load_program()
  program['tf'].logging.set_verbosity(program['tf'].logging.INFO)
  with tempfile.TemporaryDirectory() as work:
    model_dir = os.path.join(work, 'model')
    metrics = program['main'](
      ['--data', data, '--model_dir', model_dir, '--train_steps', str(STEPS)]
    )
    tf = program['tf']
    prefix = tf.train.latest_checkpoint(model_dir)
    variables = dict(tf.train.list_variables(prefix))
    out = os.path.join(GOLDEN_DIR, 'model')
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    name = os.path.basename(prefix)
    for entry in os.listdir(model_dir):
      if entry.startswith(name + '.') and not entry.endswith('.meta'):
        shutil.copy(os.path.join(model_dir, entry), out)
    with open(os.path.join(out, 'checkpoint'), 'w') as f:
      f.write(
        f'model_checkpoint_path: "{name}"\n'
        f'all_model_checkpoint_paths: "{name}"\n'
      )
  with open(os.path.join(GOLDEN_DIR, 'metrics.json'), 'w') as f:
    json.dump(metrics, f, indent=1, sort_keys=True)
  with open(os.path.join(GOLDEN_DIR, 'variables.json'), 'w') as f:
    json.dump({k: list(v) for k, v in sorted(variables.items())}, f, indent=1)
  print(json.dumps(metrics, sort_keys=True))


if __name__ == '__main__':
  main()
