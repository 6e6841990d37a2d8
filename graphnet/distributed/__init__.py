"""Several machines: TensorFlow's parameter-server runtime, cluster tasks."""
