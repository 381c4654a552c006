#!/bin/sh
# Writes a C file holding a service's migrations/NNN_name.sql files as an
# array of struct osh_migration named <prefix>_migrations, in version order.
# The SQL is emitted as byte arrays, which keeps long files within what
# ISO C requires compilers to take in one string literal.
# usage: embed-migrations.sh <prefix> <dir> > out.c
set -eu
prefix=$1
dir=$2
echo "/* Generated from $dir by embed-migrations.sh; do not edit. */"
echo '#include <stddef.h>'
echo '#include "osh/migrate.h"'
echo
n=0
for f in $(ls "$dir"/*.sql | sort); do
	n=$((n + 1))
	echo "static const char sql_$n[] = {"
	od -An -v -tx1 "$f" | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g' -e 's/^/\t/'
	echo "	0x00};"
done
echo
echo "extern const struct osh_migration ${prefix}_migrations[];"
echo "extern const size_t ${prefix}_nmigrations;"
echo "const struct osh_migration ${prefix}_migrations[] = {"
n=0
for f in $(ls "$dir"/*.sql | sort); do
	n=$((n + 1))
	base=$(basename "$f" .sql)
	ver=$(echo "$base" | sed -n 's/^\([0-9][0-9]*\)_.*/\1/p')
	name=$(echo "$base" | sed 's/^[0-9]*_//')
	[ -n "$ver" ] || { echo "bad migration name: $f" >&2; exit 1; }
	printf '\t{%d, "%s", sql_%d},\n' "$(expr "$ver" + 0)" "$name" "$n"
done
echo "};"
echo "const size_t ${prefix}_nmigrations = $n;"
