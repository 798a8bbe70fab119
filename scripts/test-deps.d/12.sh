# The TUI's real-terminal test drives `obs investigate --tui` in tmux.
command -v tmux >/dev/null 2>&1 || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null
}
