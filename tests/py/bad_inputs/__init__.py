"""The bad-input catalogue (catalogue.py) and the raw HTTP client that sends it (raw_http.py)."""
