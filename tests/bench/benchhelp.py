"""What the bench tests share besides fixtures: where the project is, and the command as a user types it."""
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
LBAWS = Path(sys.executable).with_name("lbaws")


def bench_command():
    return [str(LBAWS) if LBAWS.exists() else shutil.which("lbaws"), "bench"]
