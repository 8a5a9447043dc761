"""Test-session configuration, shared by `make test`, a plain `pytest --nbval notebooks/` and
`make notebooks` (tools/execute_notebooks.py imports NOTEBOOK_ENV from here).

nbval starts each notebook kernel with the environment of this process, so everything a stored
output depends on is set here, at import time, before any kernel starts.
"""

from __future__ import annotations

import os

# Thread counts are only defaults (outputs must not depend on them: the suite passes with 1 and 2).
# Under pytest-xdist each worker gets one thread: several workers with several threads each on a
# 2-core machine make torch's thread pools spin against each other and run 2-3x slower.
_THREADS = "1" if "PYTEST_XDIST_WORKER" in os.environ else "2"
NOTEBOOK_ENV_DEFAULTS = {"OMP_NUM_THREADS": _THREADS, "MKL_NUM_THREADS": _THREADS}
# Values that stored outputs depend on.
NOTEBOOK_ENV = {
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",  # inline PNGs, as in JupyterLab
    "TQDM_DISABLE": "1",  # no progress bars
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # nor transformers' save/load bars
    "PYTHONHASHSEED": "0",
    "PYTHONWARNINGS": "ignore::DeprecationWarning",
    "HF_HUB_OFFLINE": "1",  # never reach for a model hub
    "TRANSFORMERS_OFFLINE": "1",
    "TRANSFORMERS_VERBOSITY": "error",  # no advisory warnings on stderr (nbval compares stderr)
    "TOKENIZERS_PARALLELISM": "false",
    "JUPYTER_PLATFORM_DIRS": "1",
}


def configure_environment() -> None:
    for key, value in NOTEBOOK_ENV_DEFAULTS.items():
        os.environ.setdefault(key, value)
    os.environ.update(NOTEBOOK_ENV)


configure_environment()


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
