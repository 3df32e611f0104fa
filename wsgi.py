"""The WSGI entry point: gunicorn wsgi:app, flask --app wsgi ..."""
from app.importer.garbage import fewer_collections

with fewer_collections():  # start-up builds many lasting objects and no garbage: a tenth of it was collections
    from app.factory import create_app

    app = create_app()
