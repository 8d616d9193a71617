"""Options for `websockets.sync.client.connect` that every client here passes."""

import inspect

import websockets.sync.client

# No proxy from the environment (websockets >= 15 honours one); websockets >= 17 warns about a
# connection opened outside a `with` unless it opts in with legacy=True. Older versions lack
# both options, so pass only what exists.
_OPTIONS = inspect.signature(websockets.sync.client.connect).parameters
CONNECT_OPTIONS = {key: value for key, value in {"proxy": None, "legacy": True}.items()
                   if key in _OPTIONS}
