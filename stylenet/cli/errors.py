"""Turn project errors into one line on stderr and exit status 2."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

from stylenet.errors import StylenetError

T = TypeVar("T")

EXIT_USER_ERROR = 2
EXIT_PARTIAL = 3  # a batch run wrote some outputs, and some inputs failed


def exit_on_error(run: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Call ``run``; on a :class:`StylenetError` print ``stylenet: error: ...`` and exit 2.

    ``SystemExit`` passes through Hydra's own exception handling, so no traceback is shown.
    """
    try:
        return run(*args, **kwargs)
    except StylenetError as error:
        print(f"stylenet: error: {error}", file=sys.stderr)
        raise SystemExit(EXIT_USER_ERROR) from None
    except KeyboardInterrupt:
        print("stylenet: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
