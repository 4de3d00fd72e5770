"""Makes `import torch_tensorrt.annotation` resolve to `torch_tensorrt_annotation`, without editing torch_tensorrt.

Installed with a .pth file, so it runs at every interpreter start-up in the environment: it must stay tiny and
import nothing (no importlib.abc / importlib.util, whose imports alone cost ~30 ms; no torch, no torch_tensorrt).
The finder and loader below are duck-typed to the import protocol (`find_spec`, `create_module`, `exec_module`);
`ModuleSpec` is taken from an already-loaded module's spec, so nothing is imported here. The finder answers for
exactly one module name, after the normal finders have looked.
"""

import sys

ALIAS = "torch_tensorrt.annotation"
TARGET = "torch_tensorrt_annotation"


class _Loader:
    def create_module(self, spec):
        import importlib

        module = importlib.import_module(TARGET)  # the very same module object: one registry, one set of ops
        module.integration.install_torch_tensorrt_hook()  # custom_op(name, impl=plugin) in torch_tensorrt
        return module

    def exec_module(self, module):
        pass


class AliasFinder:
    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if fullname != ALIAS:
            return None
        module_spec = type(sys.__spec__)  # importlib.machinery.ModuleSpec, without importing importlib.machinery
        return module_spec(fullname, _Loader())


def install():
    if not any(isinstance(f, AliasFinder) for f in sys.meta_path):
        sys.meta_path.append(AliasFinder())


install()
