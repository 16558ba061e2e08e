#!/usr/bin/env bash
# The API walked the way the original web pages use it: send a code, log in, read me, open a
# shop, like a blog, follow its author, see the author's new blog in the feed, and join a flash
# sale. Every step checks the envelope; the first failure stops the walk with exit 1.
#
#   tests/e2e/walk.sh http://127.0.0.1:8081 [--log FILE]
#
# The login code comes from the response when the server runs with --dev-return-code, otherwise
# from the server's log (--log; the code is logged, there is no SMS gateway).
set -euo pipefail

base=${1:?usage: walk.sh BASE_URL [--log FILE]}
base=${base%/}
shift
log=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --log) log=$2; shift 2 ;;
    *) echo "walk: unknown option $1" >&2; exit 2 ;;
  esac
done

step=0
ok() { step=$((step + 1)); printf 'walk: %2d ok    %s\n' "$step" "$*"; }
die() { printf 'walk: FAIL  %s\n' "$*" >&2; exit 1; }

# call METHOD PATH [TOKEN] [JSON_BODY] -> sets $status and $body
call() {
  local method=$1 path=$2 token=${3:-} data=${4:-} out
  local args=(-sS -o /dev/stdout -w '\n%{http_code}' -X "$method" --max-time 10)
  [[ -n $token ]] && args+=(-H "authorization: $token")
  [[ -n $data ]] && args+=(-H 'Content-Type: application/json' --data "$data")
  out=$(curl "${args[@]}" "$base$path") || die "$method $path: curl failed"
  status=${out##*$'\n'}
  body=${out%$'\n'*}
}

# json EXPR: evaluates a Python expression over the last body, bound to `j`.
json() { python3 -c "import json,sys; j=json.loads(sys.argv[1]); v=($1); print(json.dumps(v) if isinstance(v,(dict,list,bool)) or v is None else v)" "$body"; }

# expect_ok WHAT: HTTP 200 with success=true.
expect_ok() {
  [[ $status == 200 ]] || die "$1: HTTP $status $body"
  [[ $(json 'j.get("success")') == true ]] || die "$1: $body"
}

random_phone() { printf '138%08d' $(( (RANDOM << 15 | RANDOM) % 100000000 )); }

login_as() {  # PHONE -> echoes the token
  local phone=$1 code
  call POST "/user/code?phone=$phone"
  expect_ok "send code to $phone"
  code=$(json 'j.get("data") or ""')
  if [[ -z $code && -n $log ]]; then
    sleep 0.2
    code=$(grep -a "login code for $phone: " "$log" | tail -1 | grep -oE '[0-9]{6}$' || true)
  fi
  [[ $code =~ ^[0-9]{6}$ ]] || die "no code for $phone (run surge with --dev-return-code, or pass --log)"
  call POST /user/login "" "{\"phone\":\"$phone\",\"code\":\"$code\"}"
  expect_ok "login $phone"
  json 'j["data"]'
}

# 1-2. code -> login
phone=$(random_phone)
token=$(login_as "$phone")
[[ $token =~ ^[0-9a-f]{32}$ ]] || die "token is not 32 hex: $token"
ok "code + login as $phone"

# 3. me
call GET /user/me "$token"
expect_ok "me"
me=$(json 'j["data"]["id"]')
ok "me: user $me ($(json 'j["data"]["nickName"]'))"

# 4. shop (as the shop page does: detail, then its vouchers)
call GET /shop/1 "$token"
expect_ok "shop 1"
ok "shop 1: $(json 'j["data"]["name"]')"

# 5. like the first hot blog, and see it liked
call GET /blog/hot?current=1 "$token"
expect_ok "hot blogs"
blog=$(json 'j["data"][0]["id"]')
call PUT "/blog/like/$blog" "$token"
expect_ok "like blog $blog"
call GET "/blog/$blog" "$token"
expect_ok "blog $blog"
[[ $(json 'j["data"]["isLike"]') == true ]] || die "blog $blog not liked after PUT /blog/like: $body"
ok "like blog $blog (liked=$(json 'j["data"]["liked"]'))"

# 6. follow a fresh author
author_token=$(login_as "$(random_phone)")
call GET /user/me "$author_token"
author=$(json 'j["data"]["id"]')
call PUT "/follow/$author/true" "$token"
expect_ok "follow $author"
call GET "/follow/or/not/$author" "$token"
[[ $(json 'j["data"]') == true ]] || die "or/not after follow: $body"
ok "follow user $author"

# 7. the author publishes; it shows up in my feed
call POST /blog "$author_token" '{"shopId":1,"title":"walk","images":"","content":"e2e"}'
expect_ok "publish"
new_blog=$(json 'j["data"]')
now_ms=$(python3 -c 'import time; print(int(time.time()*1000)+1)')
call GET "/blog/of/follow?lastId=$now_ms&offset=0" "$token"
expect_ok "feed"
[[ $(json "[b['id'] for b in j['data']['list']][0]") == "$new_blog" ]] || die "blog $new_blog not first in the feed: $body"
ok "feed shows blog $new_blog"

# 8. flash sale: the first flash-sale voucher of shop 1, else voucher 2 (the seed's first one)
voucher=2
call GET /voucher/list/1 "$token"
if [[ $status == 200 ]]; then
  v=$(json 'next((x["id"] for x in (j.get("data") or []) if "stock" in x), "")')
  [[ -n $v ]] && voucher=$v
fi
call POST "/voucher-order/seckill/$voucher" "$token"
expect_ok "seckill voucher $voucher"
order=$(json 'j["data"]')
ok "seckill voucher $voucher: order $order"
# 9. the buyer sees the order, queued until the order writer persists it: wait for persisted
state=""
for _ in $(seq 1 200); do
  call GET "/voucher-order/$order" "$token"
  expect_ok "order $order"
  state=$(json 'j["data"]["state"]')
  [[ $state == persisted ]] && break
  sleep 0.1
done
[[ $state == persisted ]] || die "order $order still $state after 20 s"
ok "order $order: $state"
echo "walk: done, $step steps passed"
