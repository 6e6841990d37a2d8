"""Counts correct predictions over a whole data set (TF1's `do_eval`).

Unlike TF1, every example is counted: the last batch may be smaller, and
batches are large (evaluation needs no gradients), so a pass over all 70000
MNIST images is a handful of `session.run` calls.

Example:
    tower = EvalTower(images, labels, mnist.evaluation(logits, labels))
    result = tower.run(sess, data_sets.test)
    print(result.format())
    # Num examples: 10000  Num correct: 9032  Precision @ 1: 0.9032
"""

import dataclasses
import math

__all__ = ['EvalResult', 'EvalTower']

_DEFAULT_BATCH = 10000


@dataclasses.dataclass(frozen=True)
class EvalResult:
  """The outcome of evaluating one data set."""

  # Examples evaluated.
  num_examples: int
  # Examples whose top-1 prediction is the label.
  num_correct: int

  @property
  def precision(self):
    """Fraction correct, NaN for an empty data set."""
    if not self.num_examples:
      return float('nan')
    return self.num_correct / self.num_examples

  def format(self):
    """The line TF1 printed: `Num examples: %d  Num correct: %d  ...`."""
    return (
      f'Num examples: {self.num_examples}  Num correct: {self.num_correct}'
      f'  Precision @ 1: {self.precision:0.04f}'
    )


def _as_fed(images, placeholder):
  """`images` [N, ...] reshaped to the placeholder's example shape.

  A data set read with reshape=False ([N, 28, 28, 1]) feeds a [None, 784]
  placeholder; the placeholder's shape decides.
  """
  dims = placeholder.shape.as_list()[1:] if placeholder.shape.ndims else None
  if dims is None or None in dims:
    dims = [math.prod(images.shape[1:])]
  # Not reshape(n, -1): that fails for an empty set (validation_size 0).
  return images.reshape(len(images), *dims)


class EvalTower:
  """The tensors that evaluate a model, and how to run them over data."""

  def __init__(self, images, labels, num_correct, batch_size=None, note=''):
    """Creates the tower.

    Args:
      images: float32 placeholder `[None, *feature_shape]` (MNIST: `[None,
        784]`) to feed images into.
      labels: int32 placeholder `[None]` to feed labels into.
      num_correct: int32 scalar tensor, correct predictions in the batch.
      batch_size: examples per `session.run`; default 10000.
      note: a line printed before each evaluation (e.g. that moving
        averages are used), or ''.
    """
    self.images = images
    self.labels = labels
    self.num_correct = num_correct
    self.batch_size = batch_size or _DEFAULT_BATCH
    self.note = note

  def run(self, session, data_set, extra_feed=None):
    """Evaluates `data_set` (anything with `.images` and `.labels`).

    Args:
      session: a `tf.Session` (or a hook's raw session) of the graph.
      data_set: an `input_data.DataSet`; labels may be one-hot.
      extra_feed: optional feed_dict entries added to every run.

    Returns:
      an `EvalResult`.
    """
    images, labels = data_set.images, data_set.labels
    if labels.ndim == 2:  # One-hot labels: [N, 10] -> [N].
      labels = labels.argmax(axis=1)
    images = _as_fed(images, self.images)
    correct = 0
    for start in range(0, len(images), self.batch_size):
      stop = start + self.batch_size
      feed = {self.images: images[start:stop], self.labels: labels[start:stop]}
      feed.update(extra_feed or {})
      correct += int(session.run(self.num_correct, feed_dict=feed))
    return EvalResult(len(images), correct)
