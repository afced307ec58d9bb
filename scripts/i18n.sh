#!/usr/bin/env bash
# UI message catalogs: extract strings from the code, update the .po files, check they compile.
#
#   scripts/i18n.sh extract        handlers/ + bot/  ->  translations/locales/tracebot.pot
#   scripts/i18n.sh update         merge the template into every locale's .po (and extract first)
#   scripts/i18n.sh init LANG...   create catalogs for new languages (headers from Babel's CLDR data)
#   scripts/i18n.sh check          compile every catalog into a temporary directory; fail on errors
#   scripts/i18n.sh headers        rewrite every catalog's Plural-Forms header from Babel's CLDR data
#
# PYBABEL overrides the pybabel command (default .venv/bin/pybabel).
# See translations/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

PYBABEL=${PYBABEL:-.venv/bin/pybabel}
DOMAIN=tracebot
LOCALES=translations/locales
# TRACEBOT_POT: write the template elsewhere (the tests extract into a temporary directory).
TEMPLATE=${TRACEBOT_POT:-$LOCALES/$DOMAIN.pot}
# Kept small and stable: no source locations and sorted entries, so diffs only show real changes.
COMMON=(--no-wrap)

locales() {
  local po
  for po in "$LOCALES"/*/LC_MESSAGES/"$DOMAIN".po; do
    [ -e "$po" ] || continue
    po=${po#"$LOCALES"/}
    echo "${po%%/*}"
  done
}

extract() {
  local tmp
  tmp=$(mktemp)
  "$PYBABEL" -q extract -F translations/babel.cfg \
    --no-default-keywords -k _ -k gettext -k ngettext:1,2 -k N_ \
    --no-location --sort-output "${COMMON[@]}" \
    --project=Tracebot --version=0.1 --copyright-holder="Tracebot contributors" \
    -o "$tmp" handlers bot
  # Keep the old template when only its creation date would change.
  if [ -e "$TEMPLATE" ] && diff -q <(grep -v '^"POT-Creation-Date:' "$tmp") \
      <(grep -v '^"POT-Creation-Date:' "$TEMPLATE") >/dev/null; then
    rm -f "$tmp"
  else
    mv "$tmp" "$TEMPLATE"
    chmod 644 "$TEMPLATE"
  fi
}

init() {
  local lang
  for lang in "$@"; do
    if [ -e "$LOCALES/$lang/LC_MESSAGES/$DOMAIN.po" ]; then
      echo "$lang: already exists" >&2
      continue
    fi
    "$PYBABEL" -q init -D "$DOMAIN" -i "$TEMPLATE" -d "$LOCALES" -l "$lang" "${COMMON[@]}"
  done
}

update() {
  local lang
  for lang in $(locales); do
    "$PYBABEL" -q update -D "$DOMAIN" -i "$TEMPLATE" -d "$LOCALES" -l "$lang" \
      --ignore-obsolete --init-missing "${COMMON[@]}"
  done
}

check() {
  local tmp lang status=0
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  for lang in $(locales); do
    mkdir -p "$tmp/$lang/LC_MESSAGES"
    cp "$LOCALES/$lang/LC_MESSAGES/$DOMAIN.po" "$tmp/$lang/LC_MESSAGES/"
    if ! "$PYBABEL" compile --statistics -D "$DOMAIN" -d "$tmp" -l "$lang" 2>&1; then
      echo "$lang: does not compile" >&2
      status=1
    fi
  done
  return "$status"
}

# `pybabel update` keeps a catalog's Plural-Forms as it is, so a newer CLDR (through Babel) is
# brought in on purpose here. tests/test_catalogs.py compares the formulas by meaning, so a header
# only needs refreshing when CLDR's rules really change, not when Babel spells them differently.
headers() {
  local lang po
  for lang in $(locales); do
    po="$LOCALES/$lang/LC_MESSAGES/$DOMAIN.po"
    "$(dirname "$PYBABEL")/python" - "$lang" "$po" <<'PY'
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog

language, path = sys.argv[1], Path(sys.argv[2])
text = path.read_text(encoding="utf-8")
header = f'"Plural-Forms: {Catalog(locale=language).plural_forms}\\n"'
new, count = re.subn(r'^"Plural-Forms: .*"$', lambda _: header, text, count=1, flags=re.MULTILINE)
if count != 1:
    sys.exit(f"{path}: no Plural-Forms header")
if new != text:
    path.write_text(new, encoding="utf-8")
    print(f"{language}: Plural-Forms refreshed")
PY
  done
}

case "${1:-}" in
  extract) extract ;;
  update) extract; update ;;
  init) shift; [ $# -gt 0 ] || { echo "usage: $0 init LANG..." >&2; exit 2; }; extract; init "$@" ;;
  check) check ;;
  headers) headers ;;
  *) echo "usage: $0 extract | update | init LANG... | check | headers" >&2; exit 2 ;;
esac
