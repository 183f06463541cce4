"""The demo runs a whole worker tick without an error (issue 18 "done means").

Seeds the synthetic demo into its own SQLite file with ``trellis demo`` and runs
``trellis worker --once`` over it as separate processes, as an operator would; the worker's log
(stderr) must hold no traceback and no error, and every periodic job must report ``ok``. Before
issue 18 the reminder job logged a traceback for every bipolar course (an unknown instrument).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TRELLIS = str(Path(sys.executable).parent / "trellis")


def test_worker_once_over_the_demo_database_logs_no_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")}
    env |= {
        "TRELLIS_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "TRELLIS_DEMO": "1",  # console transports, as `trellis serve --demo` runs it
        "DJANGO_SETTINGS_MODULE": "trellis.settings",
    }
    seeded = subprocess.run(
        [TRELLIS, "demo"], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    tick = subprocess.run(
        [TRELLIS, "worker", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert tick.returncode == 0, tick.stderr[-2000:]
    log = tick.stderr
    assert "Traceback" not in log, log[-4000:]
    assert "ERROR" not in log
    assert "failed" not in log, log[-4000:]
    results = json.loads(tick.stdout.strip().splitlines()[-1])
    assert "measures.send_due_reminders" in results
    assert set(results.values()) == {"ok"}, results
