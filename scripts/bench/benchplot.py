# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""What the report sections (scripts/bench/report_*.py) share."""

import subprocess


def gnuplot(script):
    """Runs a gnuplot script (a string or a list of lines); True if it drew."""
    if not isinstance(script, str):
        script = "\n".join(script)
    try:
        subprocess.run(["gnuplot"], input=script + "\n", text=True, check=True,
                       capture_output=True, timeout=60)
        return True
    except (OSError, subprocess.SubprocessError):
        return False


def records(res, kind):
    """The records of an experiment's kind, and those of them measured."""
    recs = [p for p in res["points"] if p.get("kind") == kind]
    return recs, [p for p in recs if p.get("status") == "measured"]
