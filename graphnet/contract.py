"""The facts every part of graphnet agrees on, written once.

MNIST's image size and class count, and the names of the tensors a saved
graphnet graph exposes to notebooks, services and graphnet's own tools:

    images:0         float32 [None, *feature_shape] (MNIST: [None, 784])
    labels:0         int32 [None]
    logits:0         float32 [None, num_classes]
    probabilities:0  float32 [None, num_classes]
    predictions:0    int64 [None]
    keep_prob:0      float32 scalar, dropout keep rate (defaults to 1.0)

This module imports nothing heavy (no TensorFlow), so the data layer can
use it too.

Example:
    from graphnet import contract
    sess.run(contract.tensor(contract.PREDICTIONS), {
        contract.tensor(contract.IMAGES): batch})
"""

__all__ = [
  'IMAGE_SIZE',
  'IMAGE_PIXELS',
  'NUM_CLASSES',
  'IMAGES',
  'LABELS',
  'LOGITS',
  'PROBABILITIES',
  'PREDICTIONS',
  'KEEP_PROB',
  'OUTPUTS',
  'tensor',
]

# MNIST: 28x28 grayscale images of the digits 0-9.
IMAGE_SIZE = 28
IMAGE_PIXELS = IMAGE_SIZE * IMAGE_SIZE
NUM_CLASSES = 10

# Op names of the saved graph's contract, at the root of the graph.
IMAGES = 'images'
LABELS = 'labels'
LOGITS = 'logits'
PROBABILITIES = 'probabilities'
PREDICTIONS = 'predictions'
KEEP_PROB = 'keep_prob'
# What prediction computes from `images`, in this order.
OUTPUTS = (LOGITS, PROBABILITIES, PREDICTIONS)


def tensor(name):
  """The tensor name of the op `name`'s first output: 'images' -> 'images:0'."""
  return f'{name}:0'
