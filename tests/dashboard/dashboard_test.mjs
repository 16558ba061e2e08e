// The live dashboard in headless Chromium: it renders, its figures move while purchases are
// made (the voucher's stock down, accepted up, persisted catching up), it lists both instances
// and a total equal to their sum, an instance that stops leaves it, and the page logs no console
// error, throws nothing and loses no request.
//   node dashboard_test.mjs PUBLIC_URL ADMIN_URL [SCREENSHOT.png]
// Needs SURGE_ADMIN_TOKEN (the fixture's), servers started with --dev-return-code, and the second
// instance in DASHBOARD_B_PUBLIC, DASHBOARD_B_ADMIN, DASHBOARD_B_PID, with both names in
// DASHBOARD_INSTANCES ("a b").
import puppeteer from "puppeteer-core";

const [publicUrl, adminUrl, screenshot] = process.argv.slice(2);
const adminToken = process.env.SURGE_ADMIN_TOKEN;
const bPublic = process.env.DASHBOARD_B_PUBLIC, bAdmin = process.env.DASHBOARD_B_ADMIN;
const bPid = Number(process.env.DASHBOARD_B_PID);
const [nameA, nameB] = (process.env.DASHBOARD_INSTANCES || "").split(" ");
if (!publicUrl || !adminUrl || !adminToken || !bPublic || !bAdmin || !bPid || !nameB) {
  console.error("usage: SURGE_ADMIN_TOKEN=... node dashboard_test.mjs PUBLIC_URL ADMIN_URL [PNG]");
  process.exit(2);
}

async function api(method, path, body, token, base = publicUrl) {
  const headers = {"content-type": "application/json"};
  if (token) headers.authorization = token;
  const res = await fetch(base + path, {method, headers, body: body && JSON.stringify(body)});
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

  // The voucher's row: [id, stock, accepted, persisted, queued, lag (shard), dead], as numbers.
  const voucherRow = () => page.$$eval(`#vouchers tr[data-voucher="${voucher}"] td`,
      tds => tds.map(td => Number(td.textContent.split(" ")[0].replace(/,/g, ""))));
  const fig = (row, i) => row.length ? row[i] : NaN;
  const start = await until(voucherRow, r => r.length > 0);
  check(fig(start, 1) === 100 && fig(start, 2) === 0 && fig(start, 3) === 0,
        `the new voucher is listed with its stock (${start})`);

  // Six purchases through each instance: the figures are the stores', so all twelve count.
  for (const token of buyers.slice(0, 6)) await api("POST", `/voucher-order/seckill/${voucher}`, null, token);
  const mid = await until(voucherRow, r => fig(r, 2) >= 6);
  check(fig(mid, 2) === 6 && fig(mid, 1) === 94, `stock down, accepted up while buying (${start} -> ${mid})`);
  for (const token of buyers.slice(6)) await api("POST", `/voucher-order/seckill/${voucher}`, null, token, bPublic);
  const after = await until(voucherRow, r => fig(r, 2) >= 12);
  check(fig(after, 2) === 12 && fig(after, 1) === 88,
        `purchases through the other instance count too (${mid} -> ${after})`);
  const done = await until(voucherRow, r => fig(r, 3) >= 12 && fig(r, 4) === 0);
  check(fig(done, 3) === 12 && fig(done, 4) === 0 && fig(done, 6) === 0,
        `persisted catches up, nothing queued or dead (${done})`);
  check(await number("#accepted") >= 12, "the sale's totals include the voucher");

  // Both instances, in the data and on the page, and a total that is their sum.
  for (const admin of [adminUrl, bAdmin]) {
    const names = await until(async () => (await (await fetch(admin + "/dashboard/data")).json()).instances.map(i => i.instance),
                              n => n.includes(nameA) && n.includes(nameB));
    check(names.includes(nameA) && names.includes(nameB), `${admin}/dashboard/data lists both instances (${names})`);
  }
  // Rows as [name, requests, accepted]; a total equal to the sum of the instance rows.
  const instanceRows = () => page.$$eval("#instances tr", rows => rows.map(r => {
    const td = [...r.querySelectorAll("td")].map(t => t.textContent.replace(/,/g, ""));
    return [r.dataset.instance, Number(td[4]), Number(td[6])];
  }));
  const rows = await until(instanceRows, rs => {
    const b = rs.find(r => r[0] === nameB);
    return rs.some(r => r[0] === nameA) && b && b[2] >= 6;
  });
  const names = rows.map(r => r[0]);
  check(names.includes(nameA) && names.includes(nameB) && names[names.length - 1] === "total",
        `the page lists both instances and a total (${names})`);
  const parts = rows.filter(r => r[0] !== "total"), totalRow = rows.find(r => r[0] === "total") || [];
  for (const [i, what] of [[1, "requests"], [2, "accepted"]]) {
    const sumOf = parts.reduce((a, r) => a + r[i], 0);
    check(totalRow[i] === sumOf && parts.every(r => r[i] > 0),
          `the total's ${what} is the instances' sum (${JSON.stringify(rows)})`);
  }
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

  // An instance that stops leaves the page once its last published figures expire.
  process.kill(bPid, "SIGTERM");
  const left = await until(instanceRows, rs => !rs.some(r => r[0] === nameB), 200);
  check(!left.some(r => r[0] === nameB) && left.some(r => r[0] === nameA),
        `a stopped instance leaves the page (${left.map(r => r[0])})`);
} finally {
  await browser.close();
}
check(errors.length === 0, `no console errors, page errors or failed requests ${JSON.stringify(errors)}`);
process.exit(failures.length ? 1 : 0);
