#!/bin/bash
# The man pages, the programs' --help and the bash completion cannot drift
# apart: each page lints clean with mandoc and renders with man -l; every
# option --help prints is an item of the page and every option the page
# names is one --help prints (athttp and athttp-emu), and each option's item
# names the environment variable --help gives as its twin; every ATHTTP_*
# variable the engine reads is an ENVIRONMENT item of athttp.1 and every
# such item is read; every dialect is documented, and every emulator
# variant --help lists is one of its dialect's items in athttp-emu.1 (and
# of the emulator's own variant table); the completion offers exactly the
# options, dialects and variants --help lists, devices and files where they
# belong, and the command after athttp's options; `make install` puts pages
# and completion where they belong.  The "mutant/" cases feed each check a
# deliberately broken page or completion and expect it to complain, so no
# check can pass by looking at nothing.
E2E_NAME=man
. "$(dirname "$0")/lib.sh"

e2e_init
e2e_need_binaries || { e2e_done; exit 1; }

PAGE=$E2E_ROOT/man/athttp.1
EMU_PAGE=$E2E_ROOT/man/athttp-emu.1
COMPLETION=$E2E_ROOT/completions/athttp
BASH_COMPLETION=/usr/share/bash-completion/bash_completion

"$ATHTTP" --help >"$TMP/athttp.help" 2>&1
"$EMU" --help >"$TMP/emu.help" 2>&1

# ------------------------------------------------------------ extractors
# The options a --help text prints: -x and --long-name words that begin it
# or follow a blank, bracket, comma, bar or parenthesis ("Set-Cookie" and
# "X-Athttp-..." are not options).
help_options() {
	grep -oE '(^|[][ ,|(])--?[a-zA-Z][a-zA-Z0-9-]*' "$1" | sed -E 's/^[][ ,|(]//' | sort -u
}

# The options of a subcommand of athttp: those on the help's "athttp SUB" lines.
help_sub_options() { grep "athttp $2 " "$1" | help_options /dev/stdin; }

# mdoc: the options every Fl macro names (MODE all), or only those of .It
# lines (MODE items), optionally only inside section SECTION.  A Fl takes
# words up to the next macro; delimiters are skipped; "Fl -" alone is the
# "--" separator, not an option.
page_flags() { # MODE PAGE [SECTION]
	awk -v mode="$1" -v want="${3:-}" '
		/^\.Sh / { sec = substr($0, 5) }
		want != "" && sec != want { next }
		!/^\./ { next }
		mode == "items" && !/^\.It / { next }
		{
			infl = 0
			for (i = 1; i <= NF; i++) {
				w = $i
				if (i == 1) sub(/^\./, "", w)
				if (w ~ /^[A-Z][a-z][a-z]?$/) { infl = (w == "Fl"); continue }
				if (!infl || w ~ /^[][|,;:.()=]$/) continue
				if (w == "-") continue
				print "-" w
			}
		}' "$2" | sort -u
}

# The words of the given macro on .It lines of a list depth (1: the
# outermost list of SECTION), "PARENT WORD" for depth 2 (PARENT each word of
# the enclosing depth-1 item).
page_items() { # PAGE SECTION MACRO DEPTH
	awk -v want="$2" -v mac="$3" -v depth="$4" '
		/^\.Sh / { sec = substr($0, 5); d = 0 }
		sec != want { next }
		/^\.Bl / { d++; next }
		/^\.El/ { d--; next }
		/^\.It / {
			n = 0
			for (i = 2; i <= NF; i++)
				if ($i == mac && i < NF) words[++n] = $(i + 1)
			if (d == 1) { np = n; for (k = 1; k <= n; k++) parent[k] = words[k] }
			if (d == depth)
				for (k = 1; k <= n; k++) {
					if (depth == 1) print words[k]
					else for (p = 1; p <= np; p++) print parent[p], words[k]
				}
		}' "$1" | sort -u
}

# "--long ATHTTP_X" for each option of --help's table whose text names its
# environment twin.
help_twins() {
	awk '/^  (-[a-zA-Z], |    )--[a-z]/ { opt = $0; sub(/^ *(-[a-zA-Z], )?/, "", opt); sub(/[[ ].*/, "", opt) }
		/^$/ || /^[^ ]/ { opt = "" }
		opt != "" { t = $0; while (match(t, /ATHTTP_[A-Z_]+/)) {
			print opt, substr(t, RSTART, RLENGTH); t = substr(t, RSTART + RLENGTH) } }' "$1" | sort -u
}

# The same from the page: the Ev names in each option item's text.
page_twins() {
	awk '/^\.It / { opt = ""; for (i = 2; i < NF; i++) if ($i == "Fl" && $(i + 1) ~ /^-[a-z]/) opt = "-" $(i + 1) }
		/^\.(El|Sh|Ss)/ { opt = "" }
		opt != "" { for (i = 1; i < NF; i++) if ($i ~ /^\.?Ev$/) { v = $(i + 1); sub(/Ns.*/, "", v); print opt, v } }' "$1" | sort -u
}

# athttp's subcommands: the synopsis's "athttp NAME ..." lines.
help_subcommands() {
	sed -nE 's/^(usage:)? *athttp ([a-z][a-z-]*)( \[.*)?$/\2/p' "$1" | sort -u
}

# The subcommands the page's SYNOPSIS gives: "Nm" then "Cm NAME".
page_subcommands() {
	awk '/^\.Sh /{ s = substr($0, 5); next } s == "SYNOPSIS" && /^\.Nm/ { nm = 1; next }
		s == "SYNOPSIS" && nm && /^\.Cm / { print $2 } { nm = 0 }' "$1" | sort -u
}

# athttp's dialects: the help's "a | b | c" line.
help_dialects() { grep -E '^ +[a-z]+( \| [a-z]+)+ *$' "$1" | tr -d ' ' | tr '|' '\n' | sort -u; }

# athttp-emu's dialects: the words after "-m, --modem MODEM".
emu_help_dialects() {
	sed -n 's/^ *-m, --modem MODEM *//p' "$1" | tr ',' '\n' | tr -d ' ' | grep . | sort -u
}

# athttp-emu's variants, "DIALECT VARIANT" lines, from the --variant
# paragraph: "simcom: a (default), b (what b changes); httpcfg, quectel: ...".
emu_help_variants() {
	awk '/^  --variant /, /^  --max-body/' "$1" | grep -v '^  --max-body' |
		sed 's/^  --variant NAME *firmware variant://' | tr '\n' ' ' |
		sed -e ':a' -e 's/([^()]*)//g' -e 'ta' | tr ';' '\n' |
		awk -F: 'NF == 2 {
			nd = split($1, ds, ","); nv = split($2, vs, ",")
			for (i = 1; i <= nd; i++) for (j = 1; j <= nv; j++) {
				d = ds[i]; v = vs[j]; gsub(/ /, "", d); gsub(/ /, "", v)
				if (d != "" && v != "") print d, v
			}
		}' | sort -u
}

# The emulator's own variant table of one dialect file (.name = "x").
emu_source_variants() {
	awk '/^static const struct [a-z_]+ variants\[\] = \{/, /^\};/' "$1" |
		grep -oE '\.name = "[^"]+"' | sed 's/.*"\(.*\)"/\1/' | sort -u
}

# The ATHTTP_* variables the engine, the preload library and the wrapper
# read (getenv or modem.c's env_int), and the twins of the config file's
# keys (config_file.c's table: config_from_env reads ATHTTP_<KEY>).
engine_env() {
	{
		grep -ohE '(getenv|env_int)\("ATHTTP_[A-Z_]+"' "$E2E_ROOT"/src/*.c "$E2E_ROOT"/preload/*.c \
			"$E2E_ROOT"/tools/*.c | grep -oE 'ATHTTP_[A-Z_]+'
		sed -n 's/^\t{ "\([a-z_]*\)", K_[A-Z]*,.*/ATHTTP_\1/p' "$E2E_ROOT"/src/config_file.c |
			tr '[:lower:]' '[:upper:]'
	} | sort -u
}

# missing WHAT WANTED HAVE: the lines of WANTED not in HAVE, as "#   " detail
# lines after a fail; status 1 when there are any.
missing() {
	local gone
	gone=$(comm -23 <(sort -u "$2") <(sort -u "$3"))
	[ -z "$gone" ] && return 0
	echo "$1: $(echo "$gone" | tr '\n' ' ')"
	return 1
}

# ------------------------------------------------------------ checks
# Each prints what is wrong and returns 1, so that the mutant cases can run
# the very same check on a broken input.
chk_lint() { # PAGE
	local out
	out=$(mandoc -Tlint -W warning "$1" 2>&1)
	local rc=$?
	[ $rc = 0 ] && [ -z "$out" ] && return 0
	echo "mandoc -Tlint (exit $rc): $(echo "$out" | head -n 5 | tr '\n' ' ')"
	return 1
}

chk_render() { # PAGE NAME
	local out err bad=0
	# man -l formats with groff (man-db); mandoc is the fallback.
	if command -v man >/dev/null; then
		out=$(MANPAGER=cat MANWIDTH=80 man -l "$1" 2>"$TMP/render.err")
	else
		out=$(mandoc -Tutf8 "$1" 2>"$TMP/render.err" | col -b)
	fi
	err=$(grep -v '^$' "$TMP/render.err")
	if [ -n "$err" ]; then echo "man -l: $(head -c 300 <<<"$err")"; bad=1; fi
	for s in NAME SYNOPSIS DESCRIPTION "EXIT STATUS" EXAMPLES "SEE ALSO"; do
		grep -q "^$s" <<<"$out" || { echo "man -l output has no $s section"; bad=1; }
	done
	grep -q "^     $2 –\|^     $2 -" <<<"$out" || { echo "man -l output does not name $2"; bad=1; }
	out=$(mandoc -Tutf8 "$1" 2>&1 >/dev/null)
	[ -z "$out" ] || { echo "mandoc -Tutf8: $out"; bad=1; }
	return $bad
}

chk_options() { # PAGE HELP
	local bad=0
	help_options "$2" >"$TMP/o.help"
	page_flags items "$1" >"$TMP/o.items"
	page_flags all "$1" >"$TMP/o.all"
	missing "printed by --help but no item of the page" "$TMP/o.help" "$TMP/o.items" || bad=1
	missing "named in the page but not printed by --help" "$TMP/o.all" "$TMP/o.help" || bad=1
	return $bad
}

chk_environment() { # PAGE HELP
	local bad=0
	# ".It Ev A , B" lines name two: take every word of ENVIRONMENT's items.
	awk '/^\.Sh /{ s = substr($0, 5) } s == "ENVIRONMENT" && /^\.It Ev/ {
		for (i = 3; i <= NF; i++) if ($i != "," && $i != "Ev") print $i }' "$1" | sort -u >"$TMP/e.page"
	engine_env >"$TMP/e.engine"
	grep -oE 'ATHTTP_[A-Z_]+' "$2" | sort -u >"$TMP/e.help"
	grep '^ATHTTP_' "$TMP/e.page" >"$TMP/e.page.ours"
	missing "read by the engine but no ENVIRONMENT item" "$TMP/e.engine" "$TMP/e.page" || bad=1
	missing "named by --help but no ENVIRONMENT item" "$TMP/e.help" "$TMP/e.page" || bad=1
	missing "an ENVIRONMENT item the engine does not read" "$TMP/e.page.ours" "$TMP/e.engine" || bad=1
	return $bad
}

chk_dialects() { # PAGE HELP
	local bad=0
	help_dialects "$2" >"$TMP/d.help"
	page_items "$1" DIALECTS Cm 1 >"$TMP/d.page"
	[ -s "$TMP/d.help" ] || { echo "no dialect list found in --help"; return 1; }
	missing "a dialect of --help not in DIALECTS" "$TMP/d.help" "$TMP/d.page" || bad=1
	missing "a DIALECTS item --help does not list" "$TMP/d.page" "$TMP/d.help" || bad=1
	return $bad
}

chk_emu_dialects() { # PAGE HELP
	local bad=0
	emu_help_dialects "$2" >"$TMP/ed.help"
	page_items "$1" "DIALECTS AND VARIANTS" Cm 1 >"$TMP/ed.page"
	[ -s "$TMP/ed.help" ] || { echo "no dialect list found in --help"; return 1; }
	missing "a dialect of --help not in the page" "$TMP/ed.help" "$TMP/ed.page" || bad=1
	missing "a dialect of the page --help does not list" "$TMP/ed.page" "$TMP/ed.help" || bad=1
	return $bad
}

chk_emu_variants() { # PAGE HELP
	local bad=0
	emu_help_variants "$2" >"$TMP/v.help"
	page_items "$1" "DIALECTS AND VARIANTS" Cm 2 >"$TMP/v.page"
	[ "$(wc -l <"$TMP/v.help")" -ge 10 ] ||
		{ echo "only $(wc -l <"$TMP/v.help") variants parsed from --help"; return 1; }
	missing "a variant of --help not under its dialect in the page" "$TMP/v.help" "$TMP/v.page" || bad=1
	missing "a variant of the page --help does not list" "$TMP/v.page" "$TMP/v.help" || bad=1
	return $bad
}

# ------------------------------------------------------------ completion
# comp [-b] WORD...: runs the completion function for WORD... as bash would
# with the cursor at the end of the last word (an = or : is a word of its own,
# as COMP_WORDBREAKS makes it); prints COMPREPLY, one a line.  -b loads
# bash-completion first (then athttp's command goes to _command_offset).
# COMP_FILE replaces the completion script (for the mutants); COMP_CWD is
# the directory it runs in.
comp() {
	local bc=
	[ "$1" = -b ] && { bc=1; shift; }
	(
		cd "${COMP_CWD:-$TMP}" || exit 1
		# Outside a real completion compopt fails; what it was asked is not checked.
		compopt() { :; }
		if [ -n "$bc" ]; then . "$BASH_COMPLETION" || exit 1; fi
		. "${COMP_FILE:-$COMPLETION}" || exit 1
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE='' prev=''
		for w in "${COMP_WORDS[@]}"; do
			if [ -z "$COMP_LINE" ]; then COMP_LINE=$w
			elif [[ $w == [=:] || $prev == [=:] ]]; then COMP_LINE+=$w
			else COMP_LINE+=" $w"; fi
			prev=$w
		done
		COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		spec=$(complete -p "$1") || exit 1
		fn=${spec#*-F }
		fn=${fn%% *}
		"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf '%s\n' "${COMPREPLY[@]}"
	) 2>"$TMP/comp.err"
}

# same WHAT EXPECTED-FILE ACTUAL-FILE: equal as sets, else the differences.
same() {
	local bad=0
	missing "$1: expected but not offered" "$2" "$3" || bad=1
	missing "$1: offered but not expected" "$3" "$2" || bad=1
	return $bad
}

# Completion against --help: options, dialects and variants, as sets.
chk_completion_lists() {
	local bad=0 d
	# athttp's own options are those of --help's option table; a
	# subcommand's, those on its "athttp SUB" lines (and -h, --help).
	awk '/^  (-[a-zA-Z], |    )--[a-z]/' "$TMP/athttp.help" | help_options /dev/stdin >"$TMP/c.main"
	comp athttp - | sed 's/=$//' | sort -u >"$TMP/c.got"
	same "athttp -" "$TMP/c.main" "$TMP/c.got" || bad=1
	for sub in $(help_subcommands "$TMP/athttp.help"); do
		{ help_sub_options "$TMP/athttp.help" "$sub"; printf '%s\n' -h --help; } | sort -u >"$TMP/c.sub.want"
		comp athttp "$sub" - | sort -u >"$TMP/c.got"
		same "athttp $sub -" "$TMP/c.sub.want" "$TMP/c.got" || bad=1
	done
	help_dialects "$TMP/athttp.help" >"$TMP/c.d"
	comp athttp -m "" | sort -u >"$TMP/c.got"
	same "athttp -m" "$TMP/c.d" "$TMP/c.got" || bad=1
	comp athttp --modem = "" | sort -u >"$TMP/c.got"
	same "athttp --modem=" "$TMP/c.d" "$TMP/c.got" || bad=1
	help_subcommands "$TMP/athttp.help" >"$TMP/c.s"
	(. "${COMP_FILE:-$COMPLETION}" && printf '%s\n' $_athttp_subcommands) | sort -u >"$TMP/c.got"
	same "athttp's subcommands" "$TMP/c.s" "$TMP/c.got" || bad=1

	help_options "$TMP/emu.help" >"$TMP/c.emu"
	comp athttp-emu - | sort -u >"$TMP/c.got"
	same "athttp-emu -" "$TMP/c.emu" "$TMP/c.got" || bad=1
	emu_help_dialects "$TMP/emu.help" >"$TMP/c.ed"
	comp athttp-emu -m "" | sort -u >"$TMP/c.got"
	same "athttp-emu -m" "$TMP/c.ed" "$TMP/c.got" || bad=1
	emu_help_variants "$TMP/emu.help" >"$TMP/c.v"
	while read -r d; do
		awk -v d="$d" '$1 == d { print $2 }' "$TMP/c.v" >"$TMP/c.v.want"
		comp athttp-emu -m "$d" --link x --variant "" | sort -u >"$TMP/c.got"
		same "athttp-emu -m $d --variant" "$TMP/c.v.want" "$TMP/c.got" || bad=1
	done <"$TMP/c.ed"
	return $bad
}

# ============================================================ the pages
for p in "$PAGE" "$EMU_PAGE"; do
	CASE=man/lint/${p##*/}
	if ! command -v mandoc >/dev/null; then
		fail "mandoc is not installed (apt-get install mandoc)"
	elif why=$(chk_lint "$p"); then pass; else fail "$why"; fi
	CASE=man/render/${p##*/}
	n=${p##*/}
	if why=$(chk_render "$p" "${n%.1}"); then pass; else fail "$why"; fi
done

CASE=man/options/athttp
if why=$(chk_options "$PAGE" "$TMP/athttp.help"); then pass "$(wc -l <"$TMP/o.help") options"; else fail "$why"; fi
CASE=man/options/athttp-emu
if why=$(chk_options "$EMU_PAGE" "$TMP/emu.help"); then pass "$(wc -l <"$TMP/o.help") options"; else fail "$why"; fi
CASE=man/options/environment
help_twins "$TMP/athttp.help" >"$TMP/t.help"
page_twins "$PAGE" >"$TMP/t.page"
if [ "$(wc -l <"$TMP/t.help")" -lt 5 ]; then fail "only $(wc -l <"$TMP/t.help") environment twins found in --help"
elif why=$(missing "an option's environment twin of --help not in its item" "$TMP/t.help" "$TMP/t.page"); then
	pass "$(wc -l <"$TMP/t.help") twins"
else fail "$why"; fi
CASE=man/subcommands
help_subcommands "$TMP/athttp.help" >"$TMP/s.help"
page_subcommands "$PAGE" >"$TMP/s.page"
if [ ! -s "$TMP/s.help" ]; then fail "no subcommand found in --help"
elif why=$(same "athttp.1 SYNOPSIS" "$TMP/s.help" "$TMP/s.page"); then pass "$(tr '\n' ' ' <"$TMP/s.help")"
else fail "$why"; fi
CASE=man/environment
if why=$(chk_environment "$PAGE" "$TMP/athttp.help"); then pass "$(wc -l <"$TMP/e.engine") variables"; else fail "$why"; fi
CASE=man/dialects/athttp
if why=$(chk_dialects "$PAGE" "$TMP/athttp.help"); then pass "$(wc -l <"$TMP/d.help") dialects"; else fail "$why"; fi
CASE=man/dialects/athttp-emu
if why=$(chk_emu_dialects "$EMU_PAGE" "$TMP/emu.help"); then pass "$(wc -l <"$TMP/ed.help") dialects"; else fail "$why"; fi
CASE=man/variants
if why=$(chk_emu_variants "$EMU_PAGE" "$TMP/emu.help"); then pass "$(wc -l <"$TMP/v.help") variants"; else fail "$why"; fi

# --help's variants against the emulator's own tables (a file per family;
# httpcfg's serves quectel too).
CASE=man/variants/source
bad=
for f in "$E2E_ROOT"/emu/emu_*.c; do
	d=${f##*/emu_}
	d=${d%.c}
	emu_source_variants "$f" >"$TMP/src.v"
	[ -s "$TMP/src.v" ] || continue
	emu_help_variants "$TMP/emu.help" | awk -v d="$d" '$1 == d { print $2 }' >"$TMP/help.v"
	why=$(same "$d" "$TMP/src.v" "$TMP/help.v") || bad="$bad$why "
done
if [ -z "$bad" ]; then pass; else fail "$bad"; fi

# ============================================================ completion
CASE=completion/lists
if why=$(chk_completion_lists); then pass; else fail "$why $(head -c 200 "$TMP/comp.err")"; fi

mkdir -p "$TMP/cwd/cadir"
: >"$TMP/cwd/session.at"
export COMP_CWD=$TMP/cwd

# expect CASE-SUFFIX WANT-LINE... -- WORD...: every WANT among the offers.
expect() {
	local want=() w got
	while [ "$1" != -- ]; do want+=("$1"); shift; done
	shift
	got=$(comp "$@")
	for w in "${want[@]}"; do
		grep -qxF -- "$w" <<<"$got" || {
			fail "'$*' does not offer '$w'; offered: $(head -c 300 <<<"$got" | tr '\n' ' ') $(head -c 200 "$TMP/comp.err")"
			return 1
		}
	done
	pass
}

CASE=completion/athttp/--mod
got=$(comp athttp --mod | sort | tr '\n' ' ')
if [ "$got" = "--modem --module-ca " ]; then pass; else fail "offered '$got', expected --modem --module-ca"; fi

devs=()
for f in /dev/ttyUSB* /dev/ttyACM* /dev/ttyS* /dev/ttyAMA*; do [ -e "$f" ] && devs+=("$f"); done
CASE=completion/athttp/-d
expect replay: session.at "${devs[@]}" -- athttp -d ""
CASE=completion/athttp/-d-replay
expect session.at -- athttp -d replay : se
for o in --module-ca --trace --record; do
	CASE=completion/athttp/$o
	expect session.at -- athttp "$o" se
done
CASE=completion/athttp/--redact=
got=$(comp athttp --redact = "" | sort | tr '\n' ' ')
if [ "$got" = "all bodies credentials " ]; then pass; else fail "offered '$got'"; fi
# As bash passes a line that ends in = or :, the break character the word.
CASE=completion/athttp/--redact=-at-end
got=$(comp athttp --redact = | sort | tr '\n' ' ')
if [ "$got" = "all bodies credentials " ]; then pass; else fail "offered '$got'"; fi
CASE=completion/athttp/-d-replay-at-end
expect session.at -- athttp -d replay :
CASE=completion/athttp/ca-dir
got=$(comp athttp ca --dir "" | tr '\n' ' ')
if [ "$got" = "cadir " ]; then pass; else fail "offered '$got', expected the directory cadir only"; fi
CASE=completion/athttp/ca
expect ca -- athttp c
if grep -q '^ *athttp doctor ' "$TMP/athttp.help"; then
	CASE=completion/athttp/doctor
	expect doctor -- athttp d
	CASE=completion/athttp/doctor-m
	got=$(comp athttp doctor -m "" | sort | tr '\n' ' ')
	want=$({ help_dialects "$TMP/athttp.help"; echo auto; } | sort | tr '\n' ' ')
	if [ "$got" = "$want" ]; then pass; else fail "offered '$got', expected '$want'"; fi
	CASE=completion/athttp/doctor-d
	expect replay: session.at "${devs[@]}" -- athttp doctor -b 9600 -d ""
	CASE=completion/athttp/doctor-record
	expect session.at -- athttp doctor --record se
fi

for mode in plain bash-completion; do
	flag=
	if [ $mode = bash-completion ]; then
		if [ ! -r "$BASH_COMPLETION" ]; then
			skip "completion/$mode/*" "bash-completion is not installed"
			continue
		fi
		flag=-b
	fi
	CASE=completion/$mode/command
	expect echo -- $flag athttp -d /dev/null ech
	CASE=completion/$mode/command-after--
	expect echo -- $flag athttp -v -d /dev/null -- ech
	CASE=completion/$mode/command-after-cluster
	expect echo -- $flag athttp -vd /dev/null --redact = all ech
	CASE=completion/$mode/command-args
	expect session.at -- $flag athttp -m simcom -d /dev/null cat se
	CASE=completion/$mode/not-after-command
	got=$(comp $flag athttp -d /dev/null cat --mod)
	if grep -qx -- --modem <<<"$got"; then fail "athttp's --modem offered to cat"; else pass; fi
done

CASE=completion/athttp-emu/--variant=
want=$(emu_help_variants "$TMP/emu.help" | awk '$1 == "espat" { print $2 }' | sort | tr '\n' ' ')
got=$(comp athttp-emu --modem = espat --variant = "" | sort | tr '\n' ' ')
if [ -n "$want" ] && [ "$got" = "$want" ]; then pass; else fail "offered '$got', expected '$want'"; fi
CASE=completion/athttp-emu/--log
expect session.at -- athttp-emu --log se

# ============================================================ install
CASE=install
INST=$TMP/inst
make -s -C "$E2E_ROOT" BUILD="$E2E_BUILD" install DESTDIR="$INST" PREFIX=/usr >"$TMP/install.out" 2>&1
RC=$?
ERR=$TMP/install.out
C=$INST/usr/share/bash-completion/completions
if [ "$RC" != 0 ]; then
	fail "make install exited $RC"
elif ! cmp -s "$INST/usr/share/man/man1/athttp.1" "$PAGE" ||
	! cmp -s "$INST/usr/share/man/man1/athttp-emu.1" "$EMU_PAGE"; then
	fail "the pages are not in $INST/usr/share/man/man1"
elif ! cmp -s "$C/athttp" "$COMPLETION" || ! cmp -s "$C/athttp-emu" "$COMPLETION"; then
	fail "the completion is not $C/athttp and $C/athttp-emu"
elif ! MANPATH=$INST/usr/share/man MANPAGER=cat man athttp-emu 2>/dev/null | grep -q '^DIALECTS AND VARIANTS'; then
	fail "man athttp-emu does not find the installed page"
else
	pass
fi
CASE=uninstall
make -s -C "$E2E_ROOT" BUILD="$E2E_BUILD" uninstall DESTDIR="$INST" PREFIX=/usr >"$TMP/install.out" 2>&1
RC=$?
left=$(cd "$INST" && find . \( -name '*.1' -o -path '*completions/*' \) | tr '\n' ' ')
if [ "$RC" != 0 ]; then fail "make uninstall exited $RC"
elif [ -n "$left" ]; then fail "left behind: $left"
else pass; fi
unset RC ERR

# ============================================================ mutants
# Each check once more, on a broken copy: it must complain.
mutant() { # NAME CHECK ARG...
	CASE=mutant/$1
	shift
	if out=$("$@"); then fail "the check passed a broken input"; else pass "$(head -n 1 <<<"$out" | cut -c 1-100)"; fi
}
M=$TMP/mutant
mkdir -p "$M"
sed '/^\.Sh SEE ALSO/i .Xyz not a macro' "$PAGE" >"$M/lint.1"
mutant lint chk_lint "$M/lint.1"
sed '/^\.Sh EXIT STATUS/,/^\.Sh EXAMPLES/d' "$PAGE" >"$M/render.1"
mutant render chk_render "$M/render.1" athttp
sed '/^\.It Fl -replay-pace$/d' "$PAGE" >"$M/noitem.1"
mutant option-undocumented chk_options "$M/noitem.1" "$TMP/athttp.help"
sed 's/^\.Op Fl -replay-pace$/&\n.Op Fl -replay-speed/' "$PAGE" >"$M/extra.1"
mutant option-unknown chk_options "$M/extra.1" "$TMP/athttp.help"
sed '/^\.It Fl -chunked-zero-len$/,/^\.It /{/^\.It Fl -chunked/d}' "$EMU_PAGE" >"$M/emu-noitem.1"
mutant emu-option-undocumented chk_options "$M/emu-noitem.1" "$TMP/emu.help"
sed '/^\.It Fl -trace Ar file$/,/^\.It /{/^\.Ev ATHTTP_TRACE \.$/d}' "$PAGE" >"$M/notwin.1"
page_twins "$M/notwin.1" >"$M/notwin"
mutant twin-undocumented missing "twin" "$TMP/t.help" "$M/notwin"
sed '/^\.It Ev ATHTTP_TIMEOUT_MS$/d' "$PAGE" >"$M/noenv.1"
mutant env-undocumented chk_environment "$M/noenv.1" "$TMP/athttp.help"
sed 's/^\.It Ev ATHTTP_DISABLE$/.It Ev ATHTTP_DISABLED/' "$PAGE" >"$M/badenv.1"
mutant env-unread chk_environment "$M/badenv.1" "$TMP/athttp.help"
sed '/^\.It Cm onemo$/d' "$PAGE" >"$M/nodialect.1"
mutant dialect-undocumented chk_dialects "$M/nodialect.1" "$TMP/athttp.help"
sed 's/^\(       athttp ca .*\)$/\1\n       athttp selftest [-q]/' "$TMP/athttp.help" >"$M/sub.help"
help_subcommands "$M/sub.help" >"$M/sub.want"
mutant subcommand-undocumented same "athttp.1 SYNOPSIS" "$M/sub.want" "$TMP/s.page"
sed '/^\.It Cm table12$/d' "$EMU_PAGE" >"$M/novariant.1"
mutant variant-undocumented chk_emu_variants "$M/novariant.1" "$TMP/emu.help"
# A variant documented under the wrong dialect is missing under its own.
sed 's/^\.It Cm beken$/.It Cm bekenn/' "$EMU_PAGE" >"$M/wrongvariant.1"
mutant variant-misnamed chk_emu_variants "$M/wrongvariant.1" "$TMP/emu.help"
sed -e "s/'sim7600 a76xx nosni nocertdown'/'sim7600 a76xx nosni'/" \
	-e 's/ --replay-pace / /' "$COMPLETION" >"$M/completion"
COMP_FILE=$M/completion mutant completion chk_completion_lists

e2e_done
