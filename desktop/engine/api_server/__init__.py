"""The app's OpenAI-compatible API server (like LM Studio's): the loaded model served on
http://127.0.0.1:PORT/v1 through the same engine and model host as the Chat tab.

    server = ApiServer(engine)            # or ApiServer(SessionRunner(session)) without Qt
    server.start(); print(server.url)     # http://127.0.0.1:8484/v1
    server.stop()
"""

from desktop.engine.api_server.runner import Runner, SessionRunner
from desktop.engine.api_server.server import DEFAULT_PORT, ApiServer, ServerError

__all__ = ["DEFAULT_PORT", "ApiServer", "Runner", "ServerError", "SessionRunner"]
