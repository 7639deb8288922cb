"""The one exception type users see: a one-line message naming the file or key at fault."""


class SpiganError(Exception):
    """Bad input or an unrecoverable fault, reported as one line without a traceback."""


class Interrupted(Exception):
    """Training stopped by SIGINT or SIGTERM after saving a checkpoint (exit code 130)."""
