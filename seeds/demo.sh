#!/bin/sh
# make demo: run gridlined on the spool provider with the seed community
# (南内环街二社区: 10 grids, their workers, 广欣物业, the service team and
# ~50 residents), play the article's requests into the spool inbox, and
# show what came of them. On a terminal the daemon then keeps running:
# drop more texts into build/demo/spool/in (see README), Ctrl-C stops it.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/${BUILD:-build}
demo=${DEMO_DIR:-$build/demo}
conf=$demo/gridline.conf

rm -rf "$demo"
mkdir -p "$demo/spool/in" "$demo/spool/out"
# seeds/gridline.conf names demo/... paths relative to the build directory
sed "s|\"demo/|\"$demo/|g" "$top/seeds/gridline.conf" >"$conf"

"$build/gridlined" -c "$conf" --check-config
"$build/gridlinectl" -c "$conf" residents import "$top/seeds/residents.csv"

"$build/gridlined" -c "$conf" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT INT TERM
sleep 0.5

echo "== playing $(ls "$top/seeds/texts" | wc -l) sample texts into $demo/spool/in"
for f in "$top"/seeds/texts/*; do
	name=$(basename "$f")
	cp "$f" "$demo/spool/in/.$name"
	mv "$demo/spool/in/.$name" "$demo/spool/in/$name"
	sleep 0.3
done
sleep 0.5

echo; echo "== gridlinectl tickets"
"$build/gridlinectl" -c "$conf" tickets
echo; echo "== gridlinectl ticket show 1001"
"$build/gridlinectl" -c "$conf" ticket show 1001
echo; echo "== texts sent (spool outbox: $(ls "$demo/spool/out" | wc -l) files); the first three:"
for f in $(ls "$demo/spool/out" | sort -n | head -3); do
	echo "--- $f"; cat "$demo/spool/out/$f"; echo
done

if [ -t 0 ] && [ -z "${DEMO_NONINTERACTIVE:-}" ]; then
	echo
	echo "gridlined is still running (pid $pid). Try, in another terminal:"
	echo "  printf 'From: 13800000001\\n\\n报修 寇庄西路6号院 水管漏水\\n' > $demo/spool/in/.t && mv $demo/spool/in/.t $demo/spool/in/t1"
	echo "  $build/gridlinectl -c $conf tickets"
	echo "Ctrl-C stops it."
	wait $pid
fi
