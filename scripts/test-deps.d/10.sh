# The ranking benchmark reads the Nezha data (xz-compressed CSV) through xz.
command -v xz >/dev/null || apt_install xz-utils
