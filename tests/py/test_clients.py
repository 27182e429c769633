"""Smoke calls from LangChain's ChatOpenAI and litellm against the real server (loopback only)."""
import os

# litellm fetches a model price map from the internet at import unless told to use its bundled
# copy; this machine has no network and the test must not depend on one.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def test_langchain_chat_openai(server, model_id):
    import langchain_openai
    llm = langchain_openai.ChatOpenAI(base_url=server + "/v1", api_key="unused", model=model_id,
                                      temperature=0, max_tokens=20, max_retries=0)
    msg = llm.invoke("What is the capital city of France? Answer in one word.")
    assert "Paris" in msg.content
    chunks = list(llm.stream("Say hello."))
    assert "".join(c.content for c in chunks).strip()


def test_litellm_completion(server, model_id):
    import litellm
    r = litellm.completion(model="openai/" + model_id, api_base=server + "/v1", api_key="unused",
                           messages=[{"role": "user", "content": "What is the capital city of France? Answer in one word."}],
                           temperature=0, max_tokens=20)
    assert "Paris" in r.choices[0].message.content
    assert r.usage.completion_tokens > 0
