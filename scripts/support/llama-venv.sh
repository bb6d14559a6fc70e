# Sourced by the scripts that run llama.cpp: ensure_llama_venv CACHE makes (once) the virtual
# environment CACHE/llama-venv with llama-cpp-python==0.3.36 (llama.cpp build 0c1e570) and numpy,
# and sets `venv` to its path.
ensure_llama_venv() {
  venv="$1/llama-venv"
  if ! "$venv/bin/python" -c "import llama_cpp" 2>/dev/null; then
    echo "== installing llama-cpp-python==0.3.36 into $venv (builds llama.cpp; several minutes)" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet numpy "llama-cpp-python==0.3.36" >&2
  fi
  "$venv/bin/python" -c "import numpy" 2>/dev/null || "$venv/bin/pip" install --quiet numpy >&2
}
