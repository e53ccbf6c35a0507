"""The single place that imports the HTTP client library.

httpx2 (pydantic's maintained continuation of httpx, API-compatible) is used because it
measured faster than httpx 0.28 here: see ``bench/http_clients.py`` and the README.
Switching back is this one line.
"""

import httpx2 as httpx

__all__ = ["httpx"]
