#!/bin/sh
# Regression, issue 11 item 9: docs/hubbatch.1 is installed as it is (see
# cmake/packaging.cmake), so what `man docs/hubbatch.1` shows in a clone is what
# the package shows: its footer names the project's version (no unexpanded
# @PROJECT_VERSION@), groff renders it without warnings, and it has the
# sections a user looks for (journals and resuming, environment, exit status).
#   usage: man_page_test.sh SOURCE_DIR PROJECT_VERSION
set -u
man=$1/docs/hubbatch.1
version=$2
fail=0
problem() { echo "FAIL: $*"; fail=1; }

head -n 1 "$man" | grep -qx ".TH HUBBATCH 1 \"[0-9]*\" \"hubbatch $version\" \"User Commands\"" ||
  problem "the .TH line does not name hubbatch $version (CMakeLists.txt's version): $(head -n 1 "$man")"
grep -n '@[A-Za-z_]*@' "$man" && problem "unexpanded @VARIABLE@ in the man page"
if command -v groff >/dev/null 2>&1; then
  warnings=$(groff -man -Tutf8 -ww -z "$man" 2>&1)
  [ -z "$warnings" ] || problem "groff warns: $warnings"
  text=$(groff -man -Tutf8 -P-cbou "$man" 2>/dev/null)
  echo "$text" | tail -n 1 | grep -q "hubbatch $version" || problem "the rendered footer lacks hubbatch $version"
else
  echo "note: no groff here, the page was not rendered"
fi
# Issue 13: create and archive-labels have their options and the labels trap a section.
# Issue 14: export and verify have their options, backups and restore a section.
for section in "JOURNALS AND RESUMING" "ENVIRONMENT" "EXIT STATUS" "ACCESS TOKEN" "EXAMPLES" \
               "CREATE AND ARCHIVE-LABELS OPTIONS" "LABELS" "EXPORT AND VERIFY OPTIONS" \
               "BACKUP, VERIFY AND EXPORT"; do
  grep -qx ".SH \"*$section\"*" "$man" || problem "no $section section"
done
environment=$(sed -n '/^\.SH ENVIRONMENT/,/^\.SH /p' "$man")
for var in HUBSPOT_ACCESS_TOKEN HTTPS_PROXY https_proxy NO_PROXY no_proxy TMPDIR; do
  echo "$environment" | grep -qw "$var" || problem "ENVIRONMENT does not describe $var"
done
labels=$(sed -n '/^\.SH LABELS/,/^\.SH /p' "$man")
for word in unlabelled include created_pairs operation; do
  echo "$labels" | grep -q -- "$word" || problem "LABELS does not mention $word"
done
text_of() { sed 's/\\-/-/g; s/\\f[BIRP]//g; s/\\&//g; s/\\://g'; }
# restore is create under another name: the page says so where a user looks.
backups=$(sed -n '/^\.SH "*BACKUP, VERIFY AND EXPORT/,/^\.SH /p' "$man" | text_of)
for word in "hubbatch restore" "hubbatch export" "hubbatch verify" "--backup" "--verify" "--all" still_present \
            "JOURNAL .backup" association_rows "between pages"; do
  echo "$backups" | grep -q -- "$word" || problem "BACKUP, VERIFY AND EXPORT does not mention $word"
done
sed -n '/^\.SH SYNOPSIS/,/^\.SH /p' "$man" | text_of | grep -q 'hubbatch restore' || problem "SYNOPSIS lacks hubbatch restore"
exits=$(sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$man")
echo "$exits" | grep -q still_present || problem "EXIT STATUS does not say verify's still_present exits 1"
echo "$exits" | text_of | grep -q -- '--backup' || problem "EXIT STATUS does not say what an incomplete --backup exits"
for code in 0 1 2 3 4; do
  echo "$exits" | grep -qx ".B $code" || problem "EXIT STATUS does not describe $code"
done
[ $fail = 0 ] && echo "ok: man page version $version, renders cleanly, has its sections"
exit $fail
