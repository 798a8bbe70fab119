# The explain tests talk to a real OpenAI-compatible server: the LiteLLM proxy (PyPI), which
# they start with mock models. Installed once; quiet; idempotent.
if ! command -v litellm >/dev/null 2>&1; then
    echo "scripts/test: installing the LiteLLM proxy (pip install 'litellm[proxy]') for the explain tests" >&2
    python3 -m pip install -q 'litellm[proxy]' >/dev/null 2>&1 || {
        echo "scripts/test: could not install litellm: run python3 -m pip install 'litellm[proxy]'" >&2
        exit 1
    }
    # pyenv puts new console scripts on PATH only after a rehash.
    if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
fi
