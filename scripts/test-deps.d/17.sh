# The sink's hostile-condition tests mount a small tmpfs (they run as root, as CI does) and
# raise their open-file soft limit to 8512 (the hard limit must allow it).
command -v mount >/dev/null || apt_install mount
