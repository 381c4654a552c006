#!/bin/sh
# Chassis control for one simulated BMC (lan.conf: chassis_control).
# ipmi_sim runs "<this> <statedir> get power" and "... set power 0|1",
# "... set reset 1", "... set boot <dev>"; the state lives in files so that
# tests can read and change it from outside.
dir=$1
shift
# Every command that changes something is logged with the time in
# milliseconds, one line each ("<ms> set power 1"), for osh-sim commands.
[ "$1" = set ] && echo "$(date +%s%3N) $*" >>"$dir/commands"
# A BMC slow to carry out a command (osh-sim slow): ipmi_sim answers when
# this script ends.
[ "$1" = set ] && [ -f "$dir/control_delay" ] && sleep "$(cat "$dir/control_delay")"
case "$1 $2" in
# Reads with the shell's own read: ipmi_sim asks at every chassis status
# (each poll and scrape), and a subshell and cat per ask are two more
# processes, which a machine running a hundred BMCs feels.
"get power")
	p=0
	[ -f "$dir/power" ] && read -r p <"$dir/power"
	echo "power:${p:-0}"
	;;
"get boot")
	b=default
	[ -f "$dir/boot" ] && read -r b <"$dir/boot"
	echo "boot:${b:-default}"
	;;
"set power") echo "$3" >"$dir/power.tmp" && mv "$dir/power.tmp" "$dir/power" ;;
"set reset") echo "reset $(date +%s)" >>"$dir/events" ;;
# A soft shutdown: the operating system honours it and powers off.
"set shutdown") echo "shutdown $(date +%s)" >>"$dir/events" &&
	echo 0 >"$dir/power.tmp" && mv "$dir/power.tmp" "$dir/power" ;;
"set boot") echo "$3" >"$dir/boot" ;;
"set "*) echo "$2 $3" >>"$dir/events" ;;
*) ;;
esac
exit 0
