"""The ASGI app for servers (uvicorn server.asgi:app) and the CLI."""

from server.app import create_app

app = create_app()
