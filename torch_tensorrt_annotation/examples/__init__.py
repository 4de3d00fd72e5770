"""Bundled example plugins. `python -m torch_tensorrt_annotation demo` compiles them and prints their tactics."""
