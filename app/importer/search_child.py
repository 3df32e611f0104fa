"""The duplicate search's child process (search_process.py says what it is sent and answers): it
compares records and reads no database, so it loads none (duplicates.py)."""
from __future__ import annotations

import pickle
import sys

from app.importer import children
from app.importer.duplicates import DuplicateIndex, HeldSearch, participant_person, search_chunk
from app.importer.garbage import fewer_collections


@fewer_collections()
def serve(stdin, stdout) -> None:
    """The child: hold rows, or file the participants and search each chunk as it comes, until stdin closes."""
    index, held, reverse = DuplicateIndex(), [], None
    try:
        while True:
            try:
                kind, items = pickle.load(stdin)
            except EOFError:
                return
            if kind == "hold":
                held += items
            elif kind == "add":
                for columns in items:
                    index.add(participant_person(columns))
            elif kind == "find":
                children.send(stdout, ("found", search_chunk(index, held + items)))
                held = []
            else:  # "scan" and "settle": every row was held
                reverse = reverse or HeldSearch(held)
                if kind == "scan":
                    for columns in items:
                        reverse.scan(participant_person(columns))
                else:
                    children.send(stdout, ("found", reverse.found()))
    except Exception as error:  # the type alone: a message may quote a name
        children.send(stdout, ("error", type(error).__name__))


if __name__ == "__main__":
    answers, sys.stdout = sys.stdout.buffer, sys.stderr  # a stray print must not break the stream
    serve(sys.stdin.buffer, answers)
