"""Turn project errors into one line on stderr and exit status 2.

The error keeps its cause (``raise ... from error``) for debugging: with ``STYLENET_DEBUG=1``
in the environment it is re-raised, so Python prints the whole chain with tracebacks.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TypeVar

from omegaconf.errors import MissingMandatoryValue

from stylenet.errors import StylenetError

T = TypeVar("T")

EXIT_USER_ERROR = 2
EXIT_PARTIAL = 3  # a batch run wrote some outputs, and some inputs failed
EXIT_INTERRUPTED = 130


def debugging() -> bool:
    """True when ``STYLENET_DEBUG`` asks for full tracebacks."""
    return os.environ.get("STYLENET_DEBUG", "").strip().lower() in ("1", "true", "yes")


def exit_on_error(run: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Call ``run``; on a :class:`StylenetError` print ``stylenet: error: ...`` and exit 2.

    ``SystemExit`` passes through Hydra's own exception handling, so no traceback is shown.
    """
    try:
        result = run(*args, **kwargs)
        sys.stdout.flush()  # a closed pipe shows here, inside the handlers below
        return result
    except StylenetError as error:
        if debugging():
            raise
        print(f"stylenet: error: {error}", file=sys.stderr)
        raise SystemExit(EXIT_USER_ERROR) from error
    except MissingMandatoryValue as error:
        if debugging():
            raise
        key = getattr(error, "full_key", None) or "a required option"
        print(f"stylenet: error: {key}= is required: give {key}=...", file=sys.stderr)
        raise SystemExit(EXIT_USER_ERROR) from error
    except KeyboardInterrupt as error:
        print("stylenet: interrupted", file=sys.stderr)
        raise SystemExit(EXIT_INTERRUPTED) from error
    except BrokenPipeError as error:
        # The reader closed the pipe early (`stylenet-stylize list=true | head -1`): nothing is
        # wrong with the run. Point stdout at /dev/null so the exit flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(0) from error
