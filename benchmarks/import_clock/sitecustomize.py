"""Start-up clock for ``benchmarks/rerun_floor.py``: put this folder on ``PYTHONPATH``.

With ``POLLWAVES_IMPORT_CLOCK`` set to a folder, every Python process started then (the
Snakemake driver and each job) writes one JSON line there when it exits: its script, its
start (Unix seconds), its wall and CPU seconds since this module ran, and the wall and CPU
seconds spent in outermost imports (``import``, ``from ... import`` and
``importlib.import_module``; a nested import counts once, inside the import that caused it).
Without the variable it does nothing. Benchmark use only: it shadows any other
``sitecustomize`` on the path.
"""

import atexit
import builtins
import importlib
import json
import os
import sys
import time

_DIR = os.environ.get("POLLWAVES_IMPORT_CLOCK")

if _DIR:
    _start = (time.perf_counter(), time.process_time(), time.time())
    _spent = {"wall": 0.0, "cpu": 0.0, "depth": 0}

    def _timed(fn):
        def wrapper(*args, **kwargs):
            if _spent["depth"]:
                return fn(*args, **kwargs)
            _spent["depth"] = 1
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                _spent["wall"] += time.perf_counter() - wall
                _spent["cpu"] += time.process_time() - cpu
                _spent["depth"] = 0

        return wrapper

    builtins.__import__ = _timed(builtins.__import__)
    importlib.import_module = _timed(importlib.import_module)

    def _write() -> None:
        record = {
            "script": os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "",
            "pid": os.getpid(),
            "start_unix": round(_start[2], 4),
            "wall_s": round(time.perf_counter() - _start[0], 4),
            "cpu_s": round(time.process_time() - _start[1], 4),
            "import_wall_s": round(_spent["wall"], 4),
            "import_cpu_s": round(_spent["cpu"], 4),
        }
        path = os.path.join(_DIR, f"{os.getpid()}.json")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")

    atexit.register(_write)
