"""The contenders other than our analyzer, each a script run in a fresh process by ``bench``.

Each script takes ``--baseline CSV --capture DIR``, does its work and prints, as its last stdout line,
one JSON object of phase timings in seconds and the row counts it saw, so the harness can check that
every contender read the same rows. Scripts run with the interpreter of their own environment (the
peer tools need older pandas and numpy than the project), so they import only what that
environment has, plus ``bench.contenders.capture_lines`` which uses the standard library alone.
"""
