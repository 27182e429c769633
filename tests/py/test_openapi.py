"""GET /openapi.json describes exactly the routes the server answers."""
import requests


def test_openapi_lists_every_route_and_only_those(server):
    spec = requests.get(server + "/openapi.json", timeout=5).json()
    assert spec["openapi"].startswith("3.")
    documented = set(spec["paths"])
    advertised = set(requests.get(server + "/", timeout=5).json()["endpoints"]) | {"/"}
    assert documented == advertised
    for path, ops in spec["paths"].items():
        for method in ops:
            r = requests.request(method.upper(), server + path, json={}, timeout=10)
            assert r.status_code != 404 or r.json()["error"]["code"] != "not_found", path
    # A route that is not documented is not served.
    assert requests.get(server + "/v1/undocumented", timeout=5).status_code == 404


def test_openapi_request_schemas_name_the_validated_fields(server):
    spec = requests.get(server + "/openapi.json", timeout=5).json()
    chat = spec["components"]["schemas"]["ChatCompletionRequest"]
    assert set(chat["required"]) == {"model", "messages"}
    for field in ("temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed",
                  "stream", "stream_options", "logprobs", "top_logprobs", "n", "user"):
        assert field in chat["properties"], field
