"""henrei's application: reading → normalise → engine → reports, the jobs and the CLI."""

__all__: list[str] = []  # the stages are packages of their own (see the README's layout)
