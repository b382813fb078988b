"""Network definitions for training and ONNX export."""
