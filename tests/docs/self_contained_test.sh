#!/bin/sh
# Regression, issue 11 item 9: the project's documents do not depend on
# files outside the tree (the API contract is docs/hubspot-api.md, not
# ../shared/HUBSPOT_API.md), every relative link of the README and docs/
# resolves to a file of the tree, and every stop_reason the engine reports is
# explained in the README.
#   usage: self_contained_test.sh SOURCE_DIR
set -u
src=$1
fail=0
problem() { echo "FAIL: $*"; fail=1; }
cd "$src" || exit 1

outside=$(grep -rIn --exclude-dir=.git --exclude-dir='build*' -e '\.\./shared' -e 'HUBSPOT_API\.md' \
            --exclude=self_contained_test.sh . 2>/dev/null)
[ -z "$outside" ] || problem "references to files outside the tree:
$outside"
[ -s docs/hubspot-api.md ] || problem "no docs/hubspot-api.md"

for doc in README.md docs/*.md; do
  dir=$(dirname "$doc")
  for target in $(grep -o '](\([^)#]*\)' "$doc" | sed 's/^](//' | grep -v '^[a-z]*:' | grep -v '^$'); do
    [ -e "$dir/$target" ] || problem "$doc links to $target, which is not in the tree"
  done
done

reasons=$(sed -n 's/.*case stop_reason::[a-z_]*: return "\([a-z_]\{1,\}\)";.*/\1/p' engine/*.cpp | sort -u)
[ -n "$reasons" ] || problem "cannot read the stop reasons of engine/*.cpp"
row=$(grep '^| `exit_code`, `stop_reason`' README.md)
for r in $reasons; do
  echo "$row" | grep -q "\`$r\`" || problem "stop_reason $r is not in the README's report table"
done
[ $fail = 0 ] && echo "ok: the documents are self-contained and name every stop reason"
exit $fail
