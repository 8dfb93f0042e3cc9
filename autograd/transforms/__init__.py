"""Transforms of the engine's graphs: higher-order gradients, forward mode, anomaly detection,
the functional API (grad, jacobian, hessian, ...) and gradient checking."""
