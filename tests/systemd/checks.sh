#!/usr/bin/env bash
# checks.sh — systemd/gridlined.service and gridlined's journald logging
# under a real systemd (PID 1 in a systemd-nspawn container).
#
# Run by ../shared/peers/systemd/boot-test.sh on the HOST after the
# container has booted (see tests/integration/test_systemd.py):
#   boot-test.sh --unit systemd/gridlined.service \
#     --file build/gridlined:/usr/local/bin/gridlined \
#     --file build/gridlinectl:/usr/local/bin/gridlinectl \
#     --check tests/systemd/checks.sh
# It gets from boot-test.sh: `ct CMD...` (run CMD inside the container),
# SDCT_ROOT (the container's root as seen from here), SDCT_OUT, CT_PID.
#
# Set-up: shared libraries the container lacks are copied from this host
# (same Debian release as the container; only sonames the container cannot
# resolve, into this run's overlay, so the cached rootfs stays pristine and
# no network is needed); a config in /etc/gridline/gridline.conf; the
# spool directories. Every check prints one "ok: ..." or "FAIL: ..." line,
# whatever happened before it, so the number of checks is fixed (26); the
# last line is "systemd: N passed, N failed" and the exit status is 0 only
# when nothing failed.
set -u
export LC_ALL=C.UTF-8

U=gridlined.service
CONF=/etc/gridline/gridline.conf
IN=/var/spool/gridline/in
OUT=/var/spool/gridline/out
RESIDENT=+8613800000001
DROPIN=/etc/systemd/system/gridlined.service.d
pass=0 fail=0

ok()   { echo "ok: $*"; pass=$((pass + 1)); }
bad()  { echo "FAIL: $*"; fail=$((fail + 1)); }
info() { echo "  .. $*"; }
# check DESCRIPTION CONDITION: ok if `eval CONDITION` succeeds, else FAIL
# (CONDITION in single quotes: it may use && and ||, evaluated here)
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

prop()  { ct systemctl show -P "$1" "$U"; }
state() { echo "$(prop ActiveState)/$(prop SubState)"; }
is_state() { [ "$(state)" = "$1" ]; }
# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds
wait_for() {
	local end=$((SECONDS + $1)); shift
	until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.2; done
}

# Journal position: entries after it are what the current step caused.
cursor() { ct journalctl -n 1 --show-cursor -o cat --no-pager | sed -n 's/^-- cursor: //p'; }
# jr CURSOR ARGS...: the unit's journal from CURSOR on (for reading only:
# it may include the entry at CURSOR itself)
jr() { local c=$1; shift; ct journalctl -u "$U" --cursor="$c" --no-pager "$@"; }
# jr_msgs CURSOR ARGS...: MESSAGE of each of the unit's entries after
# CURSOR. Not --after-cursor: journalctl 252 then also skips the first
# matching entry when the entry at CURSOR does not match the filter.
jr_msgs() {
	local c=$1; shift
	ct journalctl -u "$U" --cursor="$c" -o json --no-pager "$@" | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    m = e.get("MESSAGE")
    if e.get("__CURSOR") != sys.argv[1] and m is not None:
        print(m if isinstance(m, str) else bytes(m).decode("utf-8", "replace"))' "$c"
}
jr_has() { jr_msgs "$1" | grep -qE -- "$2"; }

# Write the config: conf [green] [broken]. "green" adds the category
# "green" (keyword 绿化) that the reload check introduces; "broken" adds an
# unknown key on the last line and prints that line's number.
conf() {
	local f=$SDCT_ROOT$CONF.tmp
	mkdir -p "$SDCT_ROOT/etc/gridline"
	cat >"$f" <<'EOF'
# written by tests/systemd/checks.sh; log.mask_phones left at its default
database = "/var/lib/gridline/gridline.db";
country_code = "86";
poll_interval = 2.0;
provider = { type = "spool"; inbox = "/var/spool/gridline/in"; outbox = "/var/spool/gridline/out"; };
limits = { quiet_hours = ""; };   # the checks run at any hour
grids = (
	{ id = "g1"; name = "第一网格"; worker = "w01"; leader = "w00"; addresses = [ "解放南路281号院" ]; },
	{ id = "g2"; name = "第二网格"; worker = "w02"; leader = "w00"; addresses = [ "寇庄西路6号院" ]; }
);
workers = (
	{ id = "w00"; name = "社区主任"; phone = "+8613900000009"; role = "leader"; },
	{ id = "w01"; name = "李娜"; phone = "+8613900000001"; role = "grid"; },
	{ id = "w02"; name = "张伟"; phone = "+8613900000002"; role = "grid"; },
	{ id = "v01"; name = "广欣物业"; phone = "+8613900000100"; role = "vendor"; }
);
categories = (
	{ id = "repair"; name = "报修"; keywords = [ "报修", "维修", "REPAIR", "BX" ];
	  assign = "role"; role = "vendor"; copy_grid = true; },
EOF
	[ "${1:-}" = green ] &&
		echo '	{ id = "green"; name = "绿化"; keywords = [ "绿化", "LH" ]; assign = "grid"; },' >>"$f"
	echo '	{ id = "errand"; name = "跑腿"; keywords = [ "跑腿", "ERRAND", "PT" ]; assign = "grid"; }' >>"$f"
	echo ');' >>"$f"
	if [ "${2:-}" = broken ]; then
		echo 'poll_intervall = 1.0;' >>"$f"
		wc -l <"$f"
	fi
	mv "$f" "$SDCT_ROOT$CONF"
}

# drop NAME TEXT: an inbound SMS from $RESIDENT, written inside the
# container under a dot-name and renamed into the inbox
drop() {
	ct sh -c 'printf "From: %s\n\n%s\n" "$1" "$2" >"$3/.$4" && mv "$3/.$4" "$3/$4"' \
		sh "$RESIDENT" "$2" "$IN" "$1"
}
consumed() { [ -e "$SDCT_ROOT$IN/done/$1" ] && [ ! -e "$SDCT_ROOT$IN/$1" ]; }

# tickets_json: gridlinectl's ticket list (run inside, against the live db)
tickets_json() { ct gridlinectl -c "$CONF" tickets --json; }
# ticket_field MARKER FIELD: FIELD of the ticket whose text contains MARKER
ticket_field() {
	tickets_json | python3 -c '
import json, sys
m, f = sys.argv[1], sys.argv[2]
for t in json.load(sys.stdin):
    if m in (t.get("text") or ""):
        print(t.get(f)); break' "$1" "$2"
}
has_ticket() { [ -n "$(ticket_field "$1" id)" ]; }
n_tickets() { tickets_json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'; }

# ================================================================ set-up
echo "== set-up"
copied=""
# each round copies what ldd reports missing; their own dependencies show
# up in the next round (libcurl -> libkrb5 -> libkrb5support -> libkeyutils)
for _ in 1 2 3 4 5 6 7 8; do
	missing=$( { ct ldd /usr/local/bin/gridlined; ct ldd /usr/local/bin/gridlinectl; } 2>&1 |
		awk '/not found/ {print $1}' | sort -u)
	[ -z "$missing" ] && break
	for so in $missing; do
		src=$( { ldd "$SDCT_ROOT/usr/local/bin/gridlined"; ldd "$SDCT_ROOT/usr/local/bin/gridlinectl"; } |
			awk -v so="$so" '$1 == so && $3 ~ /^\// {print $3; exit}')
		[ -n "$src" ] || { info "the host cannot resolve $so either"; continue; }
		dir=/usr/lib/$(basename "$(dirname "$src")")
		mkdir -p "$SDCT_ROOT$dir"
		cp -L "$src" "$SDCT_ROOT$dir/$so" && copied="$copied $so"
	done
	ct ldconfig
done
info "libraries copied from the host:${copied:- none}"
missing=$( { ct ldd /usr/local/bin/gridlined; ct ldd /usr/local/bin/gridlinectl; } 2>&1 | grep 'not found')
check "gridlined and gridlinectl resolve every shared library in the container${missing:+: $missing}" \
	'[ -z "$missing" ]'

conf
mkdir -p "$SDCT_ROOT$IN" "$SDCT_ROOT$OUT"
out=$(ct /usr/local/bin/gridlined --check-config -c "$CONF" 2>&1)
check "gridlined --check-config accepts the test config inside the container ($out)" \
	'[ "$out" = "$CONF: configuration OK" ]'

# The shipped unit says WatchdogSec=30s; to keep the test short a drop-in
# (not an edit of systemd/gridlined.service) makes it 3 s for the whole run.
mkdir -p "$SDCT_ROOT$DROPIN"
printf '# test only: shorter watchdog than the shipped 30 s\n[Service]\nWatchdogSec=3s\n' \
	>"$SDCT_ROOT$DROPIN/test.conf"
# For the first start only: the main process sleeps 2 s and then execs the
# daemon (same PID), so the unit must sit in "activating" until READY=1.
printf '[Service]\nExecStart=\nExecStart=/bin/sh -c %s\n' \
	"'sleep 2; exec /usr/local/bin/gridlined -c $CONF'" >"$SDCT_ROOT$DROPIN/zz-slow-start.conf"
ct systemctl daemon-reload
# Enabled (its [Install] section works), so that systemd keeps the unit
# loaded once it is inactive and `systemctl show` still has the exit status
# of the last main process at the end (an unreferenced inactive unit is
# unloaded, and then shows Result=success, ExecMainCode=0 whatever happened).
out=$(ct systemctl enable "$U" 2>&1); rc=$?
en=$(ct systemctl is-enabled "$U")
check "systemctl enable: rc=$rc, is-enabled=$en, wanted by multi-user.target" \
	'[ "$rc" = 0 ] && [ "$en" = enabled ] && [ -L "$SDCT_ROOT/etc/systemd/system/multi-user.target.wants/$U" ]'

# ================================================================ start
echo "== start: Type=notify readiness, STATUS="
ct systemctl start --no-block "$U"
wait_for 10 eval '[ "$(prop SubState)" = start ]'   # past ExecStartPre=
sleep 0.5
s=$(state)
check "before READY=1 the unit is activating/start (got $s)" '[ "$s" = activating/start ]'
if wait_for 20 is_state active/running; then
	t0=$(prop ExecMainStartTimestampMonotonic) t1=$(prop ActiveEnterTimestampMonotonic)
	ms=$(((t1 - t0) / 1000))
	check "active/running only after the daemon's READY=1: ${ms} ms after exec (>= the 2 s sleep)" \
		'[ "$ms" -ge 1800 ]'
else
	bad "never became active/running: $(state)"
	ct systemctl status --no-pager "$U" | sed 's/^/  .. /'
fi

# From here on the shipped ExecStart line is used.
rm -f "$SDCT_ROOT$DROPIN/zz-slow-start.conf"
ct systemctl daemon-reload
ct timeout 60 systemctl restart "$U"
pid=$(prop MainPID) type=$(prop Type) s=$(state)
exe=$(ct readlink "/proc/$pid/exe")
check "shipped ExecStart: $s, Type=$type, MainPID $pid is $exe" \
	'[ "$s" = active/running ] && [ "$type" = notify ] && [ "$exe" = /usr/local/bin/gridlined ]'
st=$(ct systemctl status --no-pager "$U")
echo "$st" | grep -E 'Active:|Status:|Main PID:' | sed 's/^ */  .. /'
check "systemctl status shows 'active (running)' and our STATUS= ('open tickets')" \
	'grep -q "Active: active (running)" <<<"$st" && grep -qE "Status: \".*open tickets" <<<"$st"'

# ================================================================ spool + journal
echo "== spool in -> ticket 1001 -> spool out; journal fields"
C=$(cursor)
drop m1.sms "报修 解放南路281号院3单元 下水管堵了"
wait_for 15 consumed m1.sms
wait_for 10 eval '[ -n "$(cd "$SDCT_ROOT$OUT" && grep -l "^To: $RESIDENT\$" -- *.sms 2>/dev/null)" ]'
replies=$(cd "$SDCT_ROOT$OUT" && ls | grep -E '^[0-9]+\.sms$' | sort -n | tr '\n' ' ')
ack=$(cd "$SDCT_ROOT$OUT" && grep -l "^To: $RESIDENT\$" -- *.sms 2>/dev/null | head -1)
check "inbound file moved to in/done; reply files in $OUT: ${replies:-none}; the resident's (${ack:-none}) names ticket 1001" \
	'consumed m1.sms && [ -n "$ack" ] && grep -q 1001 "$SDCT_ROOT$OUT/$ack"'
wait_for 10 jr_has "$C" 'ticket 1001'
n=$(ct journalctl -u "$U" GRIDLINE_TICKET=1001 -o cat --no-pager | grep -c .)
check "journalctl -u gridlined GRIDLINE_TICKET=1001 finds $n entries" '[ "$n" -ge 1 ]'
ev=$(ct journalctl -u "$U" GRIDLINE_EVENT=created GRIDLINE_TICKET=1001 -o cat --no-pager)
check "journalctl -u gridlined GRIDLINE_EVENT=created finds ticket 1001: ${ev:-nothing}" '[ -n "$ev" ]'
fields=$(ct journalctl -u "$U" GRIDLINE_TICKET=1001 -o json --no-pager | python3 -c '
import json, sys
grid, worker = set(), set()
for line in sys.stdin:
    e = json.loads(line)
    if e.get("_SYSTEMD_UNIT") == "gridlined.service":
        grid.add(e.get("GRIDLINE_GRID") or "-"); worker.add(e.get("GRIDLINE_WORKER") or "-")
print("grids=%s workers=%s" % (",".join(sorted(grid)), ",".join(sorted(worker))))')
check "-o json entries of ticket 1001 carry GRIDLINE_GRID=g1 and GRIDLINE_WORKER=v01 ($fields)" \
	'grep -qE "grids=(.*,)?g1(,| )" <<<"$fields" && grep -qE "workers=(.*,)?v01(,|$)" <<<"$fields"'
n=$(ct journalctl -u "$U" --no-pager -o cat | grep -c 'ticket 1001 (repair)')
check "the 'created' line is in the journal once, not also as a stderr line (count $n)" '[ "$n" -eq 1 ]'
all=$(ct journalctl -u "$U" -o json --no-pager)
check "resident's phone masked in the journal: no 13800000001, '****' present" \
	'! grep -q 13800000001 <<<"$all" && grep -qF "****" <<<"$all"'
leaked=""
for p in 13900000001 13900000100; do grep -q "$p" <<<"$all" && leaked="$leaked $p"; done
check "workers' phones masked in the journal too (in full:${leaked:- none})" '[ -z "$leaked" ]'

# ================================================================ reload
echo "== systemctl reload: new keyword takes effect"
drop m2.sms "绿化 寇庄西路6号院 楼前的树枝挡住路灯了 m2"
wait_for 15 consumed m2.sms && wait_for 10 has_ticket m2
cat2=$(ticket_field m2 category)
check "control: before the reload, a 绿化 text is an unclassified ticket (got ${cat2:-none})" \
	'[ "$cat2" = unclassified ]'
pid1=$(prop MainPID)
C=$(cursor)
conf green
ct timeout 30 systemctl reload "$U"; rc=$?
wait_for 10 jr_has "$C" 'configuration reloaded'
wait_for 10 is_state active/running
pid2=$(prop MainPID) s=$(state)
check "systemctl reload rc=$rc; MainPID $pid1 -> $pid2; $s" \
	'[ "$rc" = 0 ] && [ "$pid1" = "$pid2" ] && [ "$s" = active/running ]'
check "journal: systemd's 'Reloaded ...' and the daemon's 'configuration reloaded from $CONF'" \
	'jr_has "$C" "configuration reloaded from $CONF" && jr_has "$C" "^Reloaded "'
drop m3.sms "绿化 寇庄西路6号院 草坪没人浇水 m3"
wait_for 15 consumed m3.sms && wait_for 10 has_ticket m3
cat3=$(ticket_field m3 category) grid3=$(ticket_field m3 grid) who3=$(ticket_field m3 assignee)
check "after the reload, a 绿化 text is a green ticket (category ${cat3:-none}, grid $grid3, assignee $who3)" \
	'[ "$cat3" = green ] && [ "$grid3" = g2 ] && [ "$who3" = w02 ]'

# ================================================================ broken reload
echo "== reload with a broken config: the old one stays in force"
C=$(cursor)
line=$(conf "" broken)   # no green category, plus an unknown key on line $line
ct timeout 30 systemctl reload "$U"; rc=$?
if [ "$rc" = 0 ]; then
	# the shipped unit: SIGHUP; the daemon rejects the file and says why
	info "systemctl reload with the broken file: rc=0 (the daemon got SIGHUP)"
	wait_for 10 jr_has "$C" 'still running on the previous configuration'
	prio=err
else
	# a unit whose ExecReload= runs --check-config before the kill
	info "systemctl reload refused the broken file: rc=$rc"
	prio=debug
fi
wait_for 10 is_state active/running
pid3=$(prop MainPID) s=$(state)
check "unit still $s, MainPID unchanged ($pid2 -> $pid3)" \
	'[ "$s" = active/running ] && [ "$pid2" = "$pid3" ]'
err=$(jr_msgs "$C" -p "$prio" | grep -E "$CONF:$line:" | head -1)
check "journal has a '$CONF:$line: ...' line at priority $prio or higher (${err:-none})" '[ -n "$err" ]'
drop m4.sms "绿化 解放南路281号院 花坛里全是垃圾 m4"
wait_for 15 consumed m4.sms   # moved to done/ only after the commit
# gridlinectl (rightly) refuses a broken file, and the restart below runs
# ExecStartPre=--check-config: put the valid file back. The daemon has
# already handled m4 with whatever configuration it had in memory.
conf green
wait_for 10 has_ticket m4
cat4=$(ticket_field m4 category)
check "the previous configuration is still in force: a 绿化 text is still green (got ${cat4:-none})" \
	'[ "$cat4" = green ]'

# ================================================================ watchdog
echo "== watchdog: SIGSTOP the daemon"
n0=$(prop NRestarts) pid1=$(prop MainPID) tickets0=$(n_tickets)
C=$(cursor)
ct systemctl kill -s SIGSTOP --kill-who=main "$U"
restarted() { [ "$(prop NRestarts)" -gt "$n0" ] && is_state active/running; }
t=$SECONDS
if wait_for 40 restarted; then
	n1=$(prop NRestarts) pid2=$(prop MainPID)
	check "restarted $((SECONDS - t)) s after SIGSTOP: NRestarts $n0 -> $n1, MainPID $pid1 -> $pid2" \
		'[ "$pid2" != "$pid1" ]'
else
	bad "no watchdog restart within 40 s: $(state), NRestarts=$(prop NRestarts)"
fi
jr "$C" -o short-monotonic | grep -E 'Watchdog|SIGABRT|result|Scheduled restart|Started|Stopped|ready' |
	sed 's/^/  .. /'
check "journal: 'Watchdog timeout' and \"Failed with result 'watchdog'\"" \
	'jr_has "$C" "Watchdog timeout" && jr_has "$C" "Failed with result .watchdog."'
tickets1=$(n_tickets)
check "data survives the watchdog restart ($tickets0 tickets before, $tickets1 after)" \
	'[ "$tickets1" = "$tickets0" ] && [ "$tickets0" -ge 4 ]'

# ================================================================ stop
echo "== systemctl stop"
C=$(cursor)
ct timeout 60 systemctl stop "$U"; rc=$?
s=$(state) r=$(prop Result) code=$(prop ExecMainCode) status=$(prop ExecMainStatus)
check "systemctl stop rc=$rc -> $s, Result=$r, main process code=$code (1 = exited) status=$status" \
	'[ "$rc" = 0 ] && [ "$s" = inactive/dead ] && [ "$r" = success ] && [ "$code" = 1 ] && [ "$status" = 0 ]'
st=$(ct systemctl status --no-pager "$U")
echo "$st" | sed -n '1,8p' | sed 's/^/  .. /'
check "status says 'inactive (dead)' and 'code=exited, status=0/SUCCESS', is-failed says no, the daemon logged its exit" \
	'grep -q "Active: inactive (dead)" <<<"$st" && grep -q "Main PID: .*code=exited, status=0/SUCCESS" <<<"$st" &&
	 ! ct systemctl -q is-failed "$U" && jr_has "$C" "received .*; exiting"'

info "systemd-analyze security: $(ct systemd-analyze security --no-pager "$U" 2>&1 | tail -1)"

echo "systemd: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
