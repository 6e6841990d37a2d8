"""`tf.contrib.layers` summary helpers of TF 1.15.

A scalar tensor gets a scalar summary, any other a histogram, tagged with
the tensor's op name; `summarize_activation` adds, for ReLU outputs, the
fraction of zeros.

Example:
    summarize_activations()  # Every tensor in tf.GraphKeys.ACTIVATIONS.
"""

import tensorflow.compat.v1 as tf

__all__ = [
  'summarize_activation',
  'summarize_activations',
  'summarize_collection',
  'summarize_tensor',
  'summarize_tensors',
]


def summarize_tensor(tensor, tag=None):
  """A scalar summary of a scalar tensor, else a histogram."""
  if tag is None:
    tag = tensor.op.name
  if tensor.shape.ndims == 0:
    return tf.summary.scalar(tag, tensor)
  return tf.summary.histogram(tag, tensor)


def summarize_tensors(tensors, summarizer=summarize_tensor):
  """The summaries of several tensors."""
  return [summarizer(tensor) for tensor in tensors]


def summarize_collection(
  collection, name_filter=None, summarizer=summarize_tensor
):
  """The summaries of a collection's tensors (names matching the filter)."""
  return summarize_tensors(
    tf.get_collection(collection, name_filter), summarizer
  )


def summarize_activation(op):
  """A histogram of an activation (and its zero fraction after a ReLU)."""
  if op.op.type in ('Relu', 'Softplus', 'Relu6'):
    tf.summary.scalar(op.op.name + '/zeros', tf.nn.zero_fraction(op))
  if op.op.type == 'Relu6':
    tf.summary.scalar(
      op.op.name + '/sixes',
      tf.reduce_mean(tf.cast(tf.equal(op, 6.0), tf.float32)),
    )
  return tf.summary.histogram(op.op.name + '/activation', op)


def summarize_activations(name_filter=None, summarizer=summarize_activation):
  """The summaries of the tensors in `tf.GraphKeys.ACTIVATIONS`."""
  return summarize_collection(tf.GraphKeys.ACTIVATIONS, name_filter, summarizer)
