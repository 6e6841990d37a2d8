"""What an untrusted inference graph costs, and the caps it must stay under.

The static shapes of every tensor come from `shapes.inference`, which
reads the graph's protos and never imports or runs them. From them this
module sums the bytes of every tensor and the floating point operations
of every node (matrix products `2*m*k*n`, convolutions
`2*output*window*in_channels`, pools `output*window`, element-wise ops one
per element), split into what one example costs and what a run costs
whatever its batch (`Cost`), and refuses a graph above the `Caps`.

Attributes whose names start with `_` (`_output_shapes`, `_XlaCompile`,
`_XlaScope`, `_class`, ...) are for TF's internals, not part of the model:
`strip_private_attrs` removes them before a graph is imported, and
`session_config` keeps TF from evaluating constant subgraphs on its own.

Example:
    graph_def = cost_model.strip_private_attrs(graph_def)
    cost = cost_model.check_cost(graph_def)       # UnsafeGraphError
    cost.batch_limit(cost_model.DEFAULT_CAPS)     # images per session.run
"""

import dataclasses

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.serving.shapes import inference
from graphnet.serving.shapes import tensors

__all__ = [
  'Caps',
  'DEFAULT_CAPS',
  'Cost',
  'strip_private_attrs',
  'session_config',
  'graph_cost',
  'check_cost',
]


@dataclasses.dataclass(frozen=True)
class Caps:
  """What an untrusted graph may cost (defaults sized for ResNet-50 at 224²).

  Every field is a bound in bytes or floating point operations; raise them
  (the `caps` argument of `Predictor.from_checkpoint` and of
  `exporter.export_*`) for a bigger model you trust that much.
  """

  # All tensors of one example together (activations, per example).
  example_bytes: int = 2**30
  # The largest tensor of one example.
  tensor_bytes: int = 2**28
  # Tensors that do not grow with the batch (weights, constants), together.
  fixed_bytes: int = 2**30
  # Floating point operations of one example (ResNet-50: 8e9).
  example_flops: int = 2 * 10**10
  # Floating point operations that do not grow with the batch.
  fixed_flops: int = 10**10
  # Memory of one `session.run`: a larger batch is split into runs of at
  # most this many bytes of tensors (fixed part included).
  run_bytes: int = 2**31

  def __post_init__(self):
    for field in dataclasses.fields(self):
      value = getattr(self, field.name)
      if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise errors.ConfigError(
          f'Caps.{field.name}: expected an integer >= 1, found {value!r}.',
          field=field.name,
        )


DEFAULT_CAPS = Caps()


@dataclasses.dataclass(frozen=True)
class Cost:
  """Bytes and floating point operations of a graph, from its shapes."""

  # Bytes of all tensors computed for one example (they grow with N).
  example_bytes: int
  # Bytes of all tensors that do not depend on the batch size.
  fixed_bytes: int
  # Floating point operations per example, and per run whatever N.
  example_flops: int
  fixed_flops: int
  # The largest tensor per example: (bytes, tensor name).
  largest: tuple = (0, '')
  # What weighs most in each total, named in refusals: (amount, name) of
  # the largest fixed tensor, and of the nodes with the most FLOPs per
  # example and per run.
  largest_fixed: tuple = (0, '')
  costliest: tuple = (0, '')
  costliest_fixed: tuple = (0, '')

  def run_bytes(self, batch):
    """Upper bound of the tensor bytes of one run of `batch` examples."""
    return self.fixed_bytes + batch * self.example_bytes

  def batch_limit(self, caps=DEFAULT_CAPS):
    """Most examples one run may take within `caps.run_bytes` (>= 1)."""
    room = caps.run_bytes - self.fixed_bytes
    return max(1, room // max(1, self.example_bytes))


def strip_private_attrs(graph_def):
  """A copy of `graph_def` without attributes whose names start with `_`.

  Those (`_output_shapes`, `_XlaCompile`, `_XlaScope`, `_class`, ...) are
  read by TF's importer, placer and compilers, never by the op itself: a
  file would use them to pass its own shapes off as inferred ones or to
  change which kernels run.
  """
  out = tf.GraphDef()
  out.CopyFrom(graph_def)
  nodes = list(out.node)
  for function in out.library.function:
    nodes.extend(function.node_def)
    for key in [k for k in function.attr if k.startswith('_')]:
      del function.attr[key]
  for node in nodes:
    for key in [k for k in node.attr if k.startswith('_')]:
      del node.attr[key]
  return out


def session_config(config=None):
  """`config` (or a new `ConfigProto`) that folds no constants, no XLA.

  Grappler's constant folding and the classic graph optimizer (level L1)
  run constant subgraphs while the session prepares the graph, which
  would evaluate what no check has priced; XLA would compile the graph
  with other kernels. Both are off. Grappler's other passes (fusing
  MatMul, BiasAdd and Relu, pruning) stay on: they evaluate nothing, and
  without them one MNIST image takes 4x longer.
  """
  out = tf.ConfigProto()
  if config is not None:
    out.CopyFrom(config)
  graph_options = out.graph_options
  graph_options.optimizer_options.opt_level = tf.OptimizerOptions.L0
  graph_options.optimizer_options.do_constant_folding = False
  graph_options.optimizer_options.do_function_inlining = False
  graph_options.optimizer_options.global_jit_level = tf.OptimizerOptions.OFF
  graph_options.rewrite_options.disable_meta_optimizer = False
  graph_options.rewrite_options.constant_folding = (
    graph_options.rewrite_options.OFF
  )
  return out


def graph_cost(graph_def, feature_shape=None):
  """The `Cost` of an inference graph (see `inference.infer_shapes`)."""
  infos, flops = inference.infer_shapes(graph_def, feature_shape)
  example = fixed = example_flops = fixed_flops = 0
  largest = largest_fixed = costliest = costliest_fixed = (0, '')
  for name, outputs in infos.items():
    batched = False
    for index, info in enumerate(outputs):
      if info.dtype == tensors.RESOURCE:
        continue
      size = tensors.count(info.shape) * tensors.item_size(info.dtype)
      if info.batched:
        batched = True
        example += size
        largest = max(largest, (size, f'{name}:{index}'))
      else:
        fixed += size
        largest_fixed = max(largest_fixed, (size, f'{name}:{index}'))
    if batched:
      example_flops += flops[name]
      costliest = max(costliest, (flops[name], name))
    else:
      fixed_flops += flops[name]
      costliest_fixed = max(costliest_fixed, (flops[name], name))
  return Cost(
    example,
    fixed,
    example_flops,
    fixed_flops,
    largest,
    largest_fixed,
    costliest,
    costliest_fixed,
  )


def _over(what, found, cap, field, most=(0, '')):
  amount, name = most
  top = f' ({amount} of them in {tensors.quoted(name)})' if name else ''
  return errors.UnsafeGraphError(
    f'the inference graph needs {found} {what}{top}, more than the cap of '
    f'{cap} (Caps.{field}); a file can declare that in a few bytes to exhaust '
    'memory or time. If you trust this model that far, pass caps='
    f'cost_model.Caps({field}=...) to raise the cap, or allow_unsafe=True.'
  )


def check_cost(graph_def, caps=None, feature_shape=None):
  """Refuses an inference graph whose cost exceeds `caps`.

  Args:
    graph_def: the pruned inference `GraphDef`, attributes stripped.
    caps: a `Caps`; default `DEFAULT_CAPS`.
    feature_shape: see `inference.infer_shapes`.

  Returns:
    the graph's `Cost`.

  Raises:
    UnsafeGraphError: a node has no rule or no static shape, or the cost
      exceeds a cap (the message names it and how to raise it).
  """
  caps = caps or DEFAULT_CAPS
  cost = graph_cost(graph_def, feature_shape)
  size, name = cost.largest
  if size > caps.tensor_bytes:
    raise _over(
      f'bytes per example for tensor {tensors.quoted(name)}',
      size,
      caps.tensor_bytes,
      'tensor_bytes',
    )
  checks = (
    (
      'bytes of tensors per example',
      cost.example_bytes,
      'example_bytes',
      cost.largest,
    ),
    (
      'bytes of tensors per run',
      cost.fixed_bytes,
      'fixed_bytes',
      cost.largest_fixed,
    ),
    (
      'floating point operations per example',
      cost.example_flops,
      'example_flops',
      cost.costliest,
    ),
    (
      'floating point operations per run',
      cost.fixed_flops,
      'fixed_flops',
      cost.costliest_fixed,
    ),
  )
  for what, found, field, most in checks:
    if found > getattr(caps, field):
      raise _over(what, found, getattr(caps, field), field, most)
  if cost.run_bytes(1) > caps.run_bytes:
    raise _over(
      'bytes for a run of one example',
      cost.run_bytes(1),
      caps.run_bytes,
      'run_bytes',
    )
  return cost
