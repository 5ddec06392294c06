#!/bin/bash
# Regression, issue 11 item 9 (and issue 13: create, archive-labels; issue
# 14: export, verify, restore): the flags the docs name are the flags the
# binary has. Every flag of `hubbatch
# archive|create|archive-labels|export|verify|sandbox --help` appears in the README and the
# man page and is offered by the bash completion; the README and the man page
# name every subcommand and alias (restore), and the completion offers them; every --flag the README, the man page and the completion name
# exists in the binary; the completion offers the values the binary accepts
# (--format, --api-version, --log-format, --log-level: the {…} sets of --help)
# and the object types sandbox/object_types.cpp knows after --from-type and
# --to-type.
#   usage: flags_test.sh HUBBATCH_BINARY SOURCE_DIR
set -u
bin=$1
src=$2
readme=$src/README.md
man=$src/docs/hubbatch.1
completion=$src/docs/hubbatch.bash-completion
fail=0
problem() { echo "FAIL: $*"; fail=1; }

# Flags of other programs the README shows (cmake, ctest, cpack, curl,
# debootstrap, podman and docker, the scripts and bench tools), not hubbatch's.
other_programs_flags="--build --install --prefix --test-dir --output-on-failure --config-file --cacert --variant
  --fuzz --quick --pairs --image --rm --network --secret --keyed"

help_flags() {  # the option names of `hubbatch SUB --help`, one a line, without --help
  "$bin" "$1" --help | sed -n 's/^  \(-[a-z],\)\{0,1\}\(--[a-z0-9-]*\).*/\2/p' | grep -vx -- '--help' | sort -u
}
subcommands="archive create archive-labels export verify sandbox"
aliases="restore"   # restore is create: the same flags
declare -A sub_flags
for sub in $subcommands; do sub_flags[$sub]=$(help_flags $sub); done
[ "$(help_flags restore)" = "${sub_flags[create]}" ] || problem "restore --help does not list create's flags"
for sub in archive create archive-labels export verify; do
  [ "$(echo "${sub_flags[$sub]}" | wc -l)" -ge 40 ] || problem "$sub --help lists too few flags: ${sub_flags[$sub]}"
done
[ "$(echo "${sub_flags[sandbox]}" | wc -l)" -ge 30 ] || problem "sandbox --help lists too few flags: ${sub_flags[sandbox]}"
# The flags create and archive-labels have beyond archive's: they must be in
# the docs like any other (and the test must see them, not an old binary).
for f in --label; do
  grep -qx -- "$f" <<<"${sub_flags[create]}" || problem "create --help lacks $f"
done
for f in --label --include-unlabeled; do
  grep -qx -- "$f" <<<"${sub_flags[archive-labels]}" || problem "archive-labels --help lacks $f"
done
for f in --backup --verify --all; do
  grep -qx -- "$f" <<<"${sub_flags[archive]}" || problem "archive --help lacks $f"
done
for f in --output --overwrite --input-format --format; do
  grep -qx -- "$f" <<<"${sub_flags[export]}" || problem "export --help lacks $f"
done
known=$(printf '%s\n' ${sub_flags[@]} --help --version | sort -u)

man_text=$(sed 's/\\-/-/g; s/\\f[BIRP]//g; s/\\&//g; s/\\%//g; s/\\://g' "$man")
# Link targets are not flags: `](#archive---backup-save-before-removing)`.
readme_text=$(sed 's/](#[^)]*)/]/g' "$readme")

# Does TEXT name FLAG as a whole word (not as the start of a longer flag)?
names() { grep -Eq -- "(^|[^a-z0-9-])$2([^a-z0-9-]|\$)" <<<"$1"; }

# What the completion offers for the words given (the last one being completed).
complete_words() {
  bash -c '
    source "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
    compopt() { :; }
    _hubbatch
    printf "%s\n" "${COMPREPLY[@]}"' _ "$completion" "$@"
}

# 0. Every subcommand of `hubbatch --help` (and its aliases, `create, restore`)
# is documented and completed.
listed=$("$bin" --help | sed -n '/^Subcommands:/,$s/^  \([a-z][a-z-]*\(, [a-z][a-z-]*\)*\) .*/\1/p' |
         tr -d ',' | tr ' ' '\n' | sort)
[ "$listed" = "$(printf '%s\n' $subcommands $aliases | sort)" ] ||
  problem "hubbatch --help lists the subcommands '$(echo $listed)', this test knows '$subcommands $aliases'"
offered=$(complete_words "$bin" "")
for sub in $listed; do
  names "$readme_text" "hubbatch $sub" || problem "README.md does not name hubbatch $sub"
  names "$man_text" "hubbatch $sub" || problem "docs/hubbatch.1 does not name hubbatch $sub"
  grep -qx -- "$sub" <<<"$offered" || problem "the completion does not offer the subcommand $sub"
done

# 1. Every flag of --help is in the README, the man page and the completion.
for sub in $subcommands; do
  flags=${sub_flags[$sub]}
  offered=$(complete_words "$bin" $sub --)
  for f in $flags; do
    names "$readme_text" "$f" || problem "$sub $f is not in README.md"
    names "$man_text" "$f" || problem "$sub $f is not in docs/hubbatch.1"
    grep -qx -- "$f" <<<"$offered" || problem "$sub $f is not offered by the completion"
  done
done

# 2. Every --flag the docs name exists (or is another program's in the README).
for f in $(grep -o -- '--[a-z][a-z0-9-]*' <<<"$readme_text" | sort -u); do
  grep -qx -- "$f" <<<"$known" && continue
  echo " $other_programs_flags " | tr -s ' \n' '  ' | grep -q -- " $f " && continue
  problem "README.md names $f, which no hubbatch subcommand ($subcommands) has"
done
for f in $(grep -o -- '--[a-z][a-z0-9-]*' <<<"$man_text" | sort -u); do
  grep -qx -- "$f" <<<"$known" || problem "docs/hubbatch.1 names $f, which hubbatch does not have"
done
for f in $(grep -o -- '--[a-z][a-z0-9-]*' "$completion" | sort -u); do
  grep -qx -- "$f" <<<"$known" || problem "the completion names $f, which hubbatch does not have"
done

# 3. Values: the {a,b,c} sets of --help are what the completion offers after
# the flag; object type names after --from-type/--to-type.
for sub in $subcommands; do
  "$bin" $sub --help | sed -n 's/^  \(--[a-z0-9-]*\) [A-Z]*:{\([^}]*\)}.*/\1 \2/p' | while read -r flag values; do
    want=$(tr ',' '\n' <<<"$values" | sort)
    got=$(complete_words "$bin" $sub "$flag" "" | sort)
    [ "$want" = "$got" ] || problem "completion after $sub $flag offers '$(echo $got)', the binary accepts '$(echo $want)'"
  done
done
types=$(sed -n 's/^ *{"[0-9-]*", "[a-z_]*", "\([a-z_]*\)"},.*/\1/p' "$src/sandbox/object_types.cpp" | sort -u)
[ "$(echo "$types" | wc -l)" -ge 20 ] || problem "cannot read the object types of sandbox/object_types.cpp: $types"
for flag in --from-type --to-type; do
  got=$(complete_words "$bin" archive "$flag" "" | sort -u)
  [ "$types" = "$got" ] || problem "completion after $flag offers '$(echo $got)', not the types of sandbox/object_types.cpp '$(echo $types)'"
done
got=$(complete_words "$bin" archive --from-type lin)
[ "$got" = "line_items" ] || problem "completion of --from-type lin: '$got'"
# --label: the categories the reader accepts (io/assoc_type), each followed by ':'.
got=$(complete_words "$bin" create --label "" | sort | tr '\n' ' ')
[ "$got" = "HUBSPOT_DEFINED: INTEGRATOR_DEFINED: USER_DEFINED: WORK: " ] || problem "completion after create --label: '$got'"

[ $fail = 0 ] && echo "ok: the README, the man page and the completion match the flags of the binary"
exit $fail
