"""Background work on huey: SQLite queue under instance/ by default, Redis when REDIS_URL is set."""
from __future__ import annotations

import os

from huey import RedisHuey, SqliteHuey

from app.config import ROOT


def make_huey():
    if os.environ.get("REDIS_URL"):
        return RedisHuey("roster", url=os.environ["REDIS_URL"])
    instance = os.environ.get("INSTANCE_DIR", str(ROOT / "instance"))
    os.makedirs(instance, exist_ok=True)
    return SqliteHuey("roster", filename=os.path.join(instance, "queue.db"))


huey = make_huey()
