"""The first schema: organizations, users, groups, participants, uploads, audit."""
from app import models

# 0001 creates the tables as app/models.py defines them; every later schema change is a new
# numbered file using the migrator (add_column, add_index...), so a fresh database replays
# 0001 and then each change. Before the first such change lands, freeze 0001 by copying the
# model definitions it needs into this file.
TABLES = models.MODELS


def up(migrator):
    migrator.database.create_tables(TABLES)


def down(migrator):
    migrator.database.drop_tables(list(reversed(TABLES)))
