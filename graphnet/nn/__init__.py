"""Networks: layer objects, the MLP and conv networks, the model registry."""
