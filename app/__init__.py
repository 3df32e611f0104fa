"""Roster: bring a care organization's participant list in safely.

The Flask app is built by app.factory.create_app; this package file stays empty so that importing the
domain (app.importer, app.models, app.audit) in a worker or a script loads no Flask.
"""
