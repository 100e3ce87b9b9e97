"""The LLM extractor against a real local HTTP server speaking the chat-completions protocol: the request it sends,
the key taken from the environment (and never written out), the reply mapped to the vocabulary, and clear errors."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from reverie.dftg.llm_extract import LLMExtractor
from reverie.eval.chair import ObjectVocabulary
from reverie.world.vocab import make_vocab

REPLY = [
    {"object": "Mugs", "attributes": {"color": "Red", "size": "medium-sized"}, "count": 2, "negated": False},
    {"object": "teapot", "attributes": {}, "count": None, "negated": True},
    {"object": "spaceship", "attributes": {}, "count": 1},
]


class Server:
    """Answers POST /v1/chat/completions with ``self.content`` and remembers each request."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.content = "```json\n" + json.dumps(REPLY) + "\n```"
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
                reply = json.dumps({"choices": [{"message": {"role": "assistant", "content": outer.content}}]})
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(reply.encode())

            def log_message(self, *args):
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.httpd.shutdown()


def extractor(server: Server, **kwargs) -> LLMExtractor:
    attributes = {"color": {"red": []}, "size": {"medium": ["medium-sized"]}}
    vocab = ObjectVocabulary(make_vocab().synonyms(), "world")
    return LLMExtractor(server.url, "tiny-judge", synonyms=vocab, attributes=attributes, **kwargs)


def test_request_reply_and_key_handling(server, monkeypatch, tmp_path):
    monkeypatch.setenv("MY_KEY", "sk-secret-123")
    ex = extractor(server, api_key_env="MY_KEY")
    triples = ex.extract("Two red mugs and no teapot.")
    assert [(t.object, t.attributes, t.count, t.negated) for t in triples] == [
        ("cup", {"color": "red", "size": "medium"}, 2, False),
        ("kettle", {}, None, True),
    ]
    assert ex.unmapped == {"spaceship": 1}  # counted, not silently dropped
    request = server.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-secret-123"
    assert request["body"]["model"] == "tiny-judge" and request["body"]["temperature"] == 0.0
    assert request["body"]["messages"][1] == {"role": "user", "content": "Two red mugs and no teapot."}
    assert "color, size" in request["body"]["messages"][0]["content"]
    described = json.dumps(ex.describe())
    assert "MY_KEY" in described and "sk-secret" not in described and "sk-secret" not in repr(vars(ex))


def test_missing_key_bad_reply_and_unreachable_server(server, monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    with pytest.raises(RuntimeError, match="NO_SUCH_KEY is not set"):
        extractor(server, api_key_env="NO_SUCH_KEY").extract("A mug.")
    server.content = "I think there is a mug."
    with pytest.raises(ValueError, match="not a JSON list"):
        extractor(server, api_key_env=None).extract("A mug.")
    server.status = 500
    with pytest.raises(RuntimeError, match="HTTP 500"):
        extractor(server, api_key_env=None).extract("A mug.")
    server.httpd.shutdown()
    server.httpd.server_close()
    with pytest.raises(RuntimeError, match="cannot reach"):
        extractor(server, api_key_env=None, timeout_s=2).extract("A mug.")
