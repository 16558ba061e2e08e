// The live dashboard in headless Chromium: it renders, its figures move while purchases are
// made, and the page logs no console error, throws nothing and loses no request.
//   node dashboard_test.mjs PUBLIC_URL ADMIN_URL [SCREENSHOT.png]
// Needs SURGE_ADMIN_TOKEN (the fixture's) and a server started with --dev-return-code.
import puppeteer from "puppeteer-core";

const [publicUrl, adminUrl, screenshot] = process.argv.slice(2);
const adminToken = process.env.SURGE_ADMIN_TOKEN;
if (!publicUrl || !adminUrl || !adminToken) {
  console.error("usage: SURGE_ADMIN_TOKEN=... node dashboard_test.mjs PUBLIC_URL ADMIN_URL [PNG]");
  process.exit(2);
}

async function api(method, path, body, token) {
  const headers = {"content-type": "application/json"};
  if (token) headers.authorization = token;
  const res = await fetch(publicUrl + path, {method, headers, body: body && JSON.stringify(body)});
  const json = await res.json();
  if (res.status !== 200 || json.success === false) {
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  }
  return json.data;
}

async function login() {
  const phone = "139" + String(Math.floor(Math.random() * 1e8)).padStart(8, "0");
  const code = await api("POST", `/user/code?phone=${phone}`);
  return api("POST", "/user/login", {phone, code});
}

// Polls `read` until `ok` holds for its value; the last value when it never does.
async function until(read, ok, attempts = 100) {
  let v;
  for (let i = 0; i < attempts; ++i) {
    v = await read();
    if (ok(v)) return v;
    await new Promise(r => setTimeout(r, 100));
  }
  return v;
}

const failures = [];
const check = (cond, what) => { if (!cond) failures.push(what); console.log(`${cond ? "ok" : "FAIL"}: ${what}`); };

const voucher = await api("POST", "/voucher/seckill", {
  shopId: 1, title: "dashboard test", subTitle: "e2e", rules: "one each", payValue: 800,
  actualValue: 1000, type: 1, stock: 100, beginTime: "2020-01-01T00:00:00",
  endTime: "2037-12-31T00:00:00"}, adminToken);
const buyers = [];
for (let i = 0; i < 12; ++i) buyers.push(await login());

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const errors = [];
try {
  const page = await browser.newPage();
  await page.setViewport({width: 1280, height: 900});
  page.on("console", m => { if (m.type() === "error") errors.push("console: " + m.text()); });
  page.on("pageerror", e => errors.push("page error: " + e.message));
  page.on("requestfailed", r => errors.push("request failed: " + r.url()));
  page.on("response", r => { if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`); });
  await page.goto(adminUrl + "/dashboard", {waitUntil: "load"});
  check((await page.title()) === "Surge dashboard", "the page loads with its title");

  const text = sel => page.$eval(sel, el => el.textContent.trim());
  const number = async sel => Number((await text(sel)).replace(/,/g, ""));
  const updated = await until(() => text("#updated"), t => t.startsWith("updated"));
  check(updated.startsWith("updated"), `the page shows data (${updated})`);
  check((await text("#redis")) === "up" && (await text("#mariadb")) === "up", "Redis and MariaDB show up");

  const before = await number("#accepted");
  for (const token of buyers.slice(0, 6)) await api("POST", `/voucher-order/seckill/${voucher}`, null, token);
  const mid = await until(() => number("#accepted"), n => n >= before + 6);
  check(mid >= before + 6, `accepted rises while buying (${before} -> ${mid})`);
  for (const token of buyers.slice(6)) await api("POST", `/voucher-order/seckill/${voucher}`, null, token);
  const after = await until(() => number("#accepted"), n => n >= mid + 6);
  check(after >= mid + 6, `accepted keeps rising (${mid} -> ${after})`);
  const persisted = await until(() => number("#persisted"), n => n >= after);
  check(persisted >= after, `persisted catches up (${persisted})`);
  const routes = await until(() => page.$$eval("#routes tr", rows => rows.map(r => r.textContent)),
                             rows => rows.some(r => r.startsWith("/voucher-order")));
  check(routes.some(r => r.startsWith("/voucher-order")), "the route table lists /voucher-order");
  // Shop reads: the cache's figures move too (a first read misses or hits Redis, a repeat hits).
  const cacheTotal = () => page.$$eval("#cache tr", rows => rows.filter(r => r.textContent.startsWith("shop total"))
      .map(r => [...r.querySelectorAll("td")].slice(1).reduce((a, td) => a + Number(td.textContent.replace(/,/g, "")), 0))[0] ?? 0);
  const cacheBefore = await cacheTotal();
  for (let round = 0; round < 2; ++round) {
    for (let id = 1; id <= 20; ++id) await fetch(`${publicUrl}/shop/${id}`).then(r => r.text());
  }
  const cacheAfter = await until(cacheTotal, n => n >= cacheBefore + 40);
  check(cacheAfter >= cacheBefore + 40, `shop cache lookups rise (${cacheBefore} -> ${cacheAfter})`);
  if (screenshot) await page.screenshot({path: screenshot, fullPage: true});
} finally {
  await browser.close();
}
check(errors.length === 0, `no console errors, page errors or failed requests ${JSON.stringify(errors)}`);
process.exit(failures.length ? 1 : 0);
