# The explain tests talk to a real OpenAI-compatible server: the LiteLLM proxy (PyPI), started
# by the tests with mock models. Installs it once; quiet; idempotent.
if ! command -v litellm >/dev/null 2>&1; then
    python3 -m pip install -q 'litellm[proxy]' >/dev/null
fi
