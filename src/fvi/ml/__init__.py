"""Outcome models: time-correct features, LightGBM classifiers and a discrete-time hazard, ONNX, SHAP."""
