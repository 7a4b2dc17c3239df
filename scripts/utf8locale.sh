# SPDX-License-Identifier: MIT
# Sourced (not run) by the scripts that start Wine: makes sure Wine runs under a UTF-8 locale.
#
# Each Wine process converts file names between Windows (UTF-16) and Unix bytes through the
# character set of its own Unix locale (the wineserver's locale plays no part). On a bare
# machine (no LANG, no LC_*) that is the C locale, which is ASCII: a name like "café €.bin"
# cannot be made and CreateFileW fails. A UTF-8 locale that the environment already selects
# is kept; otherwise LC_ALL names C.UTF-8 (always present on Debian 12) or, failing that,
# the first UTF-8 locale installed. Exported, it reaches every Wine process started from the
# script, ctest's tests included.

opendo_utf8_locale()
{
    local found

    # The character set in effect, not the variables: LANG may name a locale that is missing.
    [ "$(locale charmap 2>/dev/null)" = UTF-8 ] && return 0
    found=$(locale -a 2>/dev/null | grep -i -m 1 -x 'C\.utf-\?8' || true)
    [ -n "$found" ] || found=$(locale -a 2>/dev/null | grep -i -m 1 '\.utf-\?8$' || true)
    if [ -z "$found" ]; then
        echo "warning: no UTF-8 locale is installed; Wine cannot use non-ASCII file names" >&2
        return 0
    fi
    export LC_ALL=$found
}

opendo_utf8_locale
