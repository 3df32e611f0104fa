"""The import domain: reading, checking, matching, previewing and applying. No Flask in here."""
