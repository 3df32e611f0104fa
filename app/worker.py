"""The worker's entry point: `huey_consumer app.worker.huey` runs the app's jobs, made from the same Config
(the environment) as the web app."""
from app.factory import create_app

app = create_app()
huey = app.extensions["roster.jobs"].huey
