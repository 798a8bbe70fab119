# The TUI's real-terminal test (tests/tui.rs) drives `obs investigate --tui` in tmux.
command -v tmux >/dev/null 2>&1 || apt_install tmux
