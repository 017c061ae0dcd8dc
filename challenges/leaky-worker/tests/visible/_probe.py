"""What the worker's process holds open, measured from outside the worker's code."""

from tui_assess.judge import candidate


def open_paths(folder):
    """Names of the files under `folder` that the process running the worker holds open."""
    prefix = str(folder)
    return sorted(
        {
            f.path.rsplit("/", 1)[-1]
            for f in candidate.process().open_files()
            if f.path.startswith(prefix)
        }
    )
