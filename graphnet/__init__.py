"""graphnet: TensorFlow 1 graph-mode training, kept alive on TensorFlow 2."""

__version__ = '0.1.0'
