"""Benchmarks of the sentiment dashboard (``python -m bench --help``; results in bench/README.md).

Four groups: ``delivery`` (POST to ``new_item`` on an SSE client, local stack), ``fanout`` (one
SSE process holding up to 10,000 streams, next to a naive poller-per-stream baseline), ``rest``
(the Mangum handler in process with Function URL events) and ``coldstart`` (the packaged zips
under a bare interpreter). Benchmarks print figures; they never fail on speed.
"""
