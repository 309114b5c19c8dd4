"""Keep a warm Lambda container's long-lived objects out of the garbage collector's way.

After a container's first invocation, nearly everything alive lives as long as the
container: modules, the boto3 clients and their service models, the compiled templates,
black's tables (~170,000 objects). Python's collector walks all of them on every full
collection, which a change triggers every dozen or so invocations (~40 ms each time).
`gc.freeze` moves them to the permanent generation once, so later collections walk
only what invocations create. Measured by `bench.handler_bench --freeze-pairs`
(bench/RESULTS.md): -7 to -9 % mean CPU per change (handler and compile alike), medians unchanged.
"""

from __future__ import annotations

import functools
import gc
import os


@functools.cache
def freeze_after_warm_up() -> bool:
    """Once per process, in Lambda only (``AWS_LAMBDA_FUNCTION_NAME`` is set): collect
    the first invocation's garbage, then freeze every object left. True when it did.

    Outside Lambda (the CLI, the local stack, tests) the collector is left as it is: a
    long-lived process there is no warm container."""
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return False
    gc.collect()
    gc.freeze()
    return True
