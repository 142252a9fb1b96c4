"""`voicebot serve`: the classroom — role-play from a browser, the trainer's live view, the class store.

`engines` holds what every call shares (book, matcher, recogniser, voice); `live` runs one call of a
WebSocket on the same `CallRunner` the CLI uses; `app` is the Starlette application (pages, JSON
routes, sessions, CSRF); `command` is the `serve` command. Nothing below the web layer imports it.
"""
