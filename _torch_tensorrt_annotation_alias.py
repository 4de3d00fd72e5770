"""Makes `import torch_tensorrt.annotation` resolve to `torch_tensorrt_annotation`, without editing torch_tensorrt.

Installed with a .pth file, so it runs at interpreter start-up: it must stay tiny and import nothing heavy (no
torch, no torch_tensorrt). It only appends a finder to sys.meta_path; the finder answers for exactly one module
name, after the normal finders have looked, and only when `torch_tensorrt` itself is being imported from.
"""

import importlib.abc
import importlib.util
import sys

ALIAS = "torch_tensorrt.annotation"
TARGET = "torch_tensorrt_annotation"


class _Loader(importlib.abc.Loader):
    def create_module(self, spec):
        module = importlib.import_module(TARGET)  # the very same module object: one registry, one set of ops
        module.integration.install_torch_tensorrt_hook()  # custom_op(name, impl=plugin) in torch_tensorrt
        return module

    def exec_module(self, module):
        pass


class AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname != ALIAS:
            return None
        return importlib.util.spec_from_loader(fullname, _Loader())


def install():
    if not any(isinstance(f, AliasFinder) for f in sys.meta_path):
        sys.meta_path.append(AliasFinder())


install()
