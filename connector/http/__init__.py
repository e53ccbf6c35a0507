"""HTTP shared by every client of the connector, targets and sources alike.

- ``lib``: the single place that imports the HTTP library (httpx2, the httpx API).
- ``statuses``: one table of what an HTTP status means for the caller.
- ``responses``: a response (or a network error) turned into the project's exceptions.
- ``retry_after``: one ``Retry-After`` parser (seconds or an HTTP date).
- ``retry``: tenacity loops (async for the targets, sync for the source adapters) with
  jittered backoff, ``Retry-After`` honoured and 429 waits not counted as failures.
"""
