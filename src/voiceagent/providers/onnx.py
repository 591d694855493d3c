"""ONNX Runtime sessions for the models shared by every call (VAD, turn model, Piper voice)."""

from __future__ import annotations

from importlib import resources

import onnxruntime


def onnx_session(path: str, threads: int = 1) -> onnxruntime.InferenceSession:
    """A CPU session without the growing memory arena: shared by every call, so RSS stays flat."""
    options = onnxruntime.SessionOptions()
    options.enable_cpu_mem_arena = False
    options.enable_mem_pattern = False
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = threads
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"], sess_options=options)


def packaged_file(package: str, name: str) -> str:
    return str(resources.files(package).joinpath(name))
