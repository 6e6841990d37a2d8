"""Compatibility namespaces for programs written against older TensorFlow."""
