r"""Your own model on your own data: scikit-learn's handwritten digits.

The UCI digits ship inside scikit-learn (1797 images of 8x8 pixels with
values 0..16, 10 classes), so this runs offline. A two-layer MLP written
with `graphnet.layers` is trained with `graphnet.train`, restored with
`Predictor` (which only reads the checkpoint), and exported as a
SavedModel whose signature takes float32 `[None, 8, 8]`.

    python scripts/digits_example.py --log_dir /tmp/digits
    # ... Test Data Eval: Num examples: 397 ... Precision @ 1: 0.97..
"""

import argparse
import os

import numpy as np
import tensorflow.compat.v1 as tf
from sklearn import datasets

import graphnet
from graphnet.data import mnist_reader as input_data
from graphnet.nn import layers
from graphnet.serving import exporter
from graphnet.serving import predictor

# Test examples, drawn at random (seed 0) from the 1797.
NUM_TEST = 397


def make_model():
  """The MLP: 64 pixels -> 64 ReLU units -> 10 logits."""
  return layers.Sequential(
    [
      layers.Flatten(),  # [batch, 8, 8] -> [batch, 64]
      layers.Dense(64, tf.nn.relu, name='hidden1'),
      layers.Dense(10, name='softmax_linear'),
    ]
  )


def load_digits():
  """(train, test) pairs of float32 images [N, 8, 8] in [0, 1], labels [N]."""
  digits = datasets.load_digits()
  images = (digits.images / 16.0).astype(np.float32)
  order = np.random.default_rng(0).permutation(len(images))
  test, train = order[:NUM_TEST], order[NUM_TEST:]
  return (images[train], digits.target[train]), (
    images[test],
    digits.target[test],
  )


def train(log_dir, max_steps=1500, printer=print):
  """Trains the MLP on the digits into `log_dir`; returns the TrainResult."""
  train_pair, test_pair = load_digits()
  data = input_data.from_arrays(
    train=train_pair, test=test_pair, validation_size=100, seed=0
  )
  return graphnet.train(
    make_model(),
    data,
    log_dir,
    max_steps=max_steps,
    batch_size=50,
    optimizer='adam',
    learning_rate=0.003,
    eval_every=500,
    seed=0,
    printer=printer,
  )


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--log_dir', default='/tmp/graphnet_digits')
  parser.add_argument('--max_steps', type=int, default=1500)
  args = parser.parse_args()
  result = train(args.log_dir, args.max_steps)
  _, (test_images, test_labels) = load_digits()
  with predictor.Predictor.from_checkpoint(args.log_dir) as model:
    accuracy = np.mean(model.predict(test_images) == test_labels)
    print(f'Restored {model.checkpoint}: test accuracy {accuracy:.4f}')
  # One SavedModel per trained step (a SavedModel is written once).
  export_dir = os.path.join(args.log_dir, f'saved_model-{result.global_step}')
  if not os.path.exists(export_dir):
    exporter.export_saved_model(args.log_dir, export_dir)
  print(f'SavedModel in {export_dir} (input images float32 [None, 8, 8])')


if __name__ == '__main__':
  main()
